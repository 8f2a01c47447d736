import { setMaxListeners } from 'node:events';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { now, type ArmClient, type CompletionSample } from './clients/arm-client.js';
import { armClients } from './clients/arm-clients.js';
import { postSse } from './clients/http.js';
import type { CellResult, CellSpec, ClientSlot, Endpoints, IdleSpec, WorkerReply, WorkerRequest } from './protocol.js';
import { profiles, streamSubscription } from './workload.js';

// A load-generating process: the orchestrator spreads a cell's clients over
// a few of these so that one event loop is not what limits the clients.

const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

function clientFor(cell: CellSpec, slot: ClientSlot, endpoints: Endpoints): ArmClient {
  return armClients[cell.arm]({ endpoints, base: cell.base ?? false, apiKey: slot.apiKey, profile: profiles[cell.profile], agent });
}

interface PreparedCell {
  cell: CellSpec;
  clients: { slot: ClientSlot; client: ArmClient }[];
}

let prepared: PreparedCell | undefined;

async function prepare(cell: CellSpec, slots: ClientSlot[], endpoints: Endpoints): Promise<void> {
  const clients = slots.map((slot) => ({ slot, client: clientFor(cell, slot, endpoints) }));
  await Promise.all(clients.map(({ client }) => client.connect()));
  prepared = { cell, clients };
}

async function run({ cell, clients }: PreparedCell, startAt: number): Promise<CellResult> {
  const samples: CompletionSample[] = [];
  const windowFrom = startAt + cell.windowFromMs;
  const windowTo = startAt + cell.windowToMs;
  const stopStarting = startAt + cell.durationMs;
  const result: CellResult = { samples, windowTokens: 0, windowEvents: 0 };
  const onTokens = (tokens: number, at: number): void => {
    if (at < windowFrom || at > windowTo) return;
    result.windowTokens += tokens;
    result.windowEvents += 1;
  };
  const abort = new AbortController();
  // Every running completion listens to it.
  setMaxListeners(0, abort.signal);
  // Draining cells still end: a stuck completion must not hang the benchmark.
  const hardEnd = setTimeout(() => abort.abort(), Math.max(0, stopStarting - now()) + (cell.drain ? 30_000 : 0));
  const drive = async (slot: ClientSlot, client: ArmClient): Promise<void> => {
    await sleep(Math.max(0, startAt + (slot.index / cell.concurrency) * cell.staggerMs - now()));
    while (now() < stopStarting && !abort.signal.aborted) samples.push(await client.complete(onTokens, abort.signal));
  };
  await Promise.all(clients.map(({ slot, client }) => drive(slot, client)));
  clearTimeout(hardEnd);
  for (const { client } of clients) client.close();
  return result;
}

/** What closes each batch of idle subscriptions opened so far. */
const idleClosers: (() => void)[] = [];
/**
 * Sockets connecting at once. A thousand opened in the same instant would
 * all be waiting for their connection_init together, which is what the
 * gateway's cap on such sockets is there to refuse; tabs open over time.
 */
const WS_WAVE = 100;

function describeFailure(error: unknown): string {
  if (error instanceof Error) return error.message;
  const closed = error as { code?: unknown; reason?: unknown } | null;
  if (closed && typeof closed === 'object' && 'code' in closed) return `closed ${String(closed.code)} ${String(closed.reason ?? '')}`.trim();
  return JSON.stringify(error);
}

/** Opens subscriptions on completions that produce nothing, and keeps them open until told. */
async function openIdle(idle: IdleSpec, endpoints: Endpoints): Promise<string[]> {
  const failures: string[] = [];
  const note = (error: unknown): void => void failures.push(describeFailure(error));
  const ids = idle.completionIds;
  if (idle.transport === 'sse') {
    const abort = new AbortController();
    const url = new URL(endpoints.graphql);
    for (const slot of idle.slots) {
      const body = JSON.stringify({ query: streamSubscription, variables: { id: ids[slot.index % ids.length] } });
      postSse({ url, body, headers: { authorization: `Bearer ${slot.apiKey}` }, agent, signal: abort.signal }, () => false).catch((error: unknown) => {
        if (!abort.signal.aborted) note(error);
      });
    }
    idleClosers.push(() => abort.abort());
    return failures;
  }
  const clients: Client[] = [];
  idleClosers.push(() => {
    for (const client of clients) void client.dispose();
  });
  const connect = (slot: IdleSpec['slots'][number]) =>
    new Promise<void>((resolve) => {
      const client = createClient({
        url: endpoints.graphql.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${slot.apiKey}` },
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: (error) => {
          note(error);
          resolve();
        },
        on: { connected: () => resolve() },
      });
      clients.push(client);
      client.subscribe({ query: streamSubscription, variables: { id: ids[slot.index % ids.length] } }, { next: () => undefined, error: note, complete: () => undefined });
    });
  for (let i = 0; i < idle.slots.length; i += WS_WAVE) await Promise.all(idle.slots.slice(i, i + WS_WAVE).map(connect));
  return failures;
}

process.on('message', (message: WorkerRequest) => {
  const handle = async (): Promise<WorkerReply> => {
    switch (message.type) {
      case 'prepare':
        await prepare(message.cell, message.slots, message.endpoints);
        return { type: 'prepared' };
      case 'go': {
        if (!prepared) throw new Error('go before prepare');
        const cell = prepared;
        prepared = undefined;
        return { type: 'result', result: await run(cell, message.startAt) };
      }
      case 'idle-open':
        return { type: 'idle-opened', failures: await openIdle(message.idle, message.endpoints) };
      case 'idle-close':
        for (const close of idleClosers.splice(0)) close();
        return { type: 'idle-closed' };
    }
  };
  handle().then(send, (error: unknown) => send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
