import type WebSocket from 'ws';
import { fundedCustomer } from '../test/helpers/fixtures.js';
import { closeCodeWithin, graphql, pause, rawSocket, within, type SoakTarget } from './soak-gateway.js';
import { failureOutcome, graphqlOutcome, type ClientTally, type Tally } from './soak-tally.js';

// Hostile WebSocket clients: one key that holds every subscription the
// limits let it hold while its balance changes five times a second (a), and
// sockets that never sign in or never subscribe (f). Both hit the limits the
// soak sets: WS_MAX_SUBSCRIPTIONS, MAX_STREAMS_PER_KEY, WS_MAX_ANONYMOUS_CONNECTIONS,
// WS_CONNECTION_INIT_TIMEOUT_MS and WS_IDLE_TIMEOUT_MS.

export interface SocketLimits {
  maxSubscriptions: number;
  maxStreamsPerKey: number;
  connectionInitTimeoutMs: number;
  idleTimeoutMs: number;
}

const balanceQuery = 'subscription { balance { balance } }';

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

/** The two limits answer RATE_LIMITED alike; their messages tell which one refused. */
function refusalOutcome(payload: unknown): string {
  const errors = payload as { message: string; extensions?: { code?: string } }[];
  const outcome = graphqlOutcome(200, { errors });
  if (outcome !== 'RATE_LIMITED') return outcome;
  const message = errors[0]?.message ?? '';
  return message.includes('this connection holds') ? 'RATE_LIMITED (connection)' : message.includes('this API key holds') ? 'RATE_LIMITED (key)' : outcome;
}

/** A signed-in graphql-ws socket spoken to directly, to hold many subscriptions and see each answer. */
class SubscriberSocket {
  private readonly waiting = new Map<string, (outcome: string) => void>();

  private constructor(
    private readonly socket: WebSocket,
    onNext: () => void,
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      // A refusal comes as `error` (refused before it ran) or as a `next` carrying errors (refused by its resolver).
      const errors = message.type === 'error' ? message.payload : message.type === 'next' ? (message.payload as { errors?: unknown }).errors : undefined;
      if (message.type === 'next' && !errors) onNext();
      const waiter = message.id === undefined ? undefined : this.waiting.get(message.id);
      if (!waiter || (message.type !== 'next' && message.type !== 'error')) return;
      this.waiting.delete(message.id as string);
      waiter(errors ? refusalOutcome(errors) : 'subscribed');
    });
    socket.once('close', (code: number) => {
      for (const waiter of this.waiting.values()) waiter(`close ${code}`);
      this.waiting.clear();
    });
  }

  /** Opens and signs in; the close code when the server refused the socket instead. */
  static async open(target: SoakTarget, apiKey: string, onNext: () => void): Promise<SubscriberSocket | number> {
    const socket = rawSocket(target);
    const acknowledged = new Promise<boolean>((resolve) => {
      const onAck = (data: WebSocket.RawData) => {
        if ((JSON.parse(String(data)) as Message).type !== 'connection_ack') return;
        socket.off('message', onAck);
        resolve(true);
      };
      socket.on('message', onAck);
      socket.once('close', () => resolve(false));
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${apiKey}` } })));
    if (await acknowledged) return new SubscriberSocket(socket, onNext);
    const code = await closeCodeWithin(socket, 0);
    return code === 'open' ? 1006 : code;
  }

  /** Subscribes; resolves with the first answer: 'subscribed' (its first value), or the refusal. */
  subscribe(id: string): Promise<string> {
    const answered = new Promise<string>((resolve) => this.waiting.set(id, resolve));
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: balanceQuery } }));
    return within(answered, 10_000).then((outcome) => (outcome === 'timeout' ? 'no answer within 10 s' : outcome));
  }

  /** Closes as a client does (1000) and waits for the server's side of the handshake. */
  async close(): Promise<void> {
    this.socket.close(1000);
    await closeCodeWithin(this.socket, 5_000);
  }
}

/** Opens a signed-in socket, retrying when the server closes it before it signed in (1013: f's bursts over the anonymous cap push out the oldest anonymous sockets). */
async function openRetrying(target: SoakTarget, apiKey: string, outcomes: ClientTally, onNext: () => void, signal: AbortSignal): Promise<SubscriberSocket | undefined> {
  while (!signal.aborted) {
    const socket = await SubscriberSocket.open(target, apiKey, onNext);
    if (typeof socket !== 'number') return socket;
    outcomes.record(socket === 1013 ? 'refused 1013 at open (retried)' : `refused ${socket} at open`);
    await pause(500, signal);
  }
  return undefined;
}

const FLOOD_ROUND_MS = 10_000;

/**
 * (a) One key holds WS_MAX_SUBSCRIPTIONS balance subscriptions on each of
 * MAX_STREAMS_PER_KEY / WS_MAX_SUBSCRIPTIONS sockets, is refused one more on
 * a full socket (the connection's cap) and one on a fresh socket (the key's
 * cap), while the admin grants to its account every 200 ms; every ~10 s it
 * closes everything and starts over.
 */
export async function balanceFlood(target: SoakTarget, limits: SocketLimits, tally: Tally, signal: AbortSignal): Promise<void> {
  const outcomes = tally.client('a. balance flood', ['subscribed', 'RATE_LIMITED (connection)', 'RATE_LIMITED (key)', 'balance push', 'grant ok', 'refused 1013 at open (retried)']);
  const { accountId, key } = await fundedCustomer(target, '1.00');
  // Every value the subscriptions receive, the first of each included.
  const onNext = () => outcomes.record('balance push');
  const grants = (async () => {
    const grant = { query: 'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id } }', variables: { input: { accountId, amount: '0.01' } } };
    while (!signal.aborted) {
      const outcome = await graphql(target, grant, target.adminToken).then(
        (answer) => graphqlOutcome(answer.status, answer.body),
        (error: unknown) => failureOutcome(error),
      );
      outcomes.record(outcome === 'ok' ? 'grant ok' : `grant ${outcome}`);
      await pause(200, signal);
    }
  })();
  const socketsNeeded = Math.ceil(limits.maxStreamsPerKey / limits.maxSubscriptions);
  while (!signal.aborted) {
    const held: SubscriberSocket[] = [];
    for (let s = 0; s < socketsNeeded && !signal.aborted; s++) {
      const socket = await openRetrying(target, key, outcomes, onNext, signal);
      if (!socket) break;
      held.push(socket);
      const answers = await Promise.all(Array.from({ length: limits.maxSubscriptions }, (_, i) => socket.subscribe(`b${i}`)));
      for (const answer of answers) outcomes.record(answer);
    }
    if (held.length === socketsNeeded) {
      outcomes.record(await (held[0] as SubscriberSocket).subscribe('over-connection-cap'));
      const fresh = await openRetrying(target, key, outcomes, onNext, signal);
      if (fresh) {
        outcomes.record(await fresh.subscribe('over-key-cap'));
        await fresh.close();
      }
    }
    await pause(FLOOD_ROUND_MS, signal);
    await Promise.all(held.map((socket) => socket.close()));
    // The server releases a socket's streams when it sees the close, which
    // may come a moment after the client saw the handshake end.
    await pause(250, signal);
  }
  await grants;
}

/** The close code, 'not closed by the server' past `timeoutMs`, or undefined when the phase ended first. */
async function serverClose(socket: WebSocket, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  const aborted = new Promise<'aborted'>((resolve) => (signal.aborted ? resolve('aborted') : signal.addEventListener('abort', () => resolve('aborted'), { once: true })));
  const code = await Promise.race([closeCodeWithin(socket, timeoutMs), aborted]);
  if (code === 'aborted') {
    socket.terminate();
    return undefined;
  }
  return code === 'open' ? 'not closed by the server' : `close ${code}`;
}

const SILENT_BATCH = 20;
/** With the idle batch, just under WS_MAX_ANONYMOUS_CONNECTIONS (50), so that only the bursts push sockets out. */
const SILENT_LANES = 2;
const IDLE_BATCH = 5;
/** A batch pushed out at once (1013) is not reopened in a busy loop. */
const MIN_BATCH_MS = 1_000;
/** How often one more batch goes over the anonymous cap, for as long as its sockets are held (the init timeout). */
const BURST_EVERY_MS = 15_000;

/**
 * (f) Sockets that never send connection_init, SILENT_BATCH at a time in
 * SILENT_LANES lanes, plus a burst lane every BURST_EVERY_MS that takes the
 * server over WS_MAX_ANONYMOUS_CONNECTIONS (each closed 4408 after
 * WS_CONNECTION_INIT_TIMEOUT_MS, or 1013 when newer sockets push the oldest
 * anonymous ones out over the cap; other clients' sockets only while their
 * own handshake runs, and they retry); and sockets that
 * initialise without credentials and then idle (closed 4000 after
 * WS_IDLE_TIMEOUT_MS).
 */
export async function idleSockets(target: SoakTarget, limits: SocketLimits, tally: Tally, signal: AbortSignal): Promise<void> {
  const silent = tally.client('f. sockets without connection_init', ['close 4408', 'close 1013']);
  const idle = tally.client('f. sockets idle after init without credentials', ['close 4000', 'close 1013']);
  const slack = 10_000;
  const silentLane = async (everyMs: number) => {
    while (!signal.aborted) {
      const batch = pause(everyMs, signal);
      const sockets = Array.from({ length: SILENT_BATCH }, () => rawSocket(target));
      const closes = await Promise.all(sockets.map((socket) => serverClose(socket, limits.connectionInitTimeoutMs + slack, signal)));
      for (const close of closes) if (close) silent.record(close);
      for (const socket of sockets) socket.terminate();
      await batch;
    }
  };
  const idleLane = async () => {
    while (!signal.aborted) {
      const batch = pause(MIN_BATCH_MS, signal);
      const sockets = Array.from({ length: IDLE_BATCH }, () => rawSocket(target));
      for (const socket of sockets) socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
      const closes = await Promise.all(sockets.map((socket) => serverClose(socket, limits.idleTimeoutMs + slack, signal)));
      for (const close of closes) if (close) idle.record(close);
      for (const socket of sockets) socket.terminate();
      await batch;
    }
  };
  const burstLane = async () => {
    await pause(BURST_EVERY_MS, signal);
    await silentLane(BURST_EVERY_MS);
  };
  await Promise.all([...Array.from({ length: SILENT_LANES }, () => silentLane(MIN_BATCH_MS)), burstLane(), idleLane()]);
}
