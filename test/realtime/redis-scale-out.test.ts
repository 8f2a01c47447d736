import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearOfMinuteEnd } from '../helpers/clock.js';
import { completionFields, startMutation, streamQuery, userMessage } from '../helpers/completions.js';
import { createAccount, fundedCustomer, grant } from '../helpers/fixtures.js';
import { gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { startTwoInstances, type TwoInstances } from '../helpers/deployment.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

// Two gateway processes, A and B, on one Postgres database and one Redis,
// both in front of one simulator: what a deployment of several instances is.
let deployment: TwoInstances | undefined;

beforeAll(async () => {
  deployment = await startTwoInstances({ UPSTREAM_IDLE_TIMEOUT_MS: '3000', INSTANCE_TIMEOUT_MS: '5000' });
});

afterEach(({ task }) => {
  // The processes' own logs are the only trace of what went wrong inside them.
  if (task.result?.state === 'fail' && deployment) for (const [name, server] of [['A', deployment.a], ['B', deployment.b]] as const) console.error(`--- output of ${name} ---\n${server.output()}`);
});

afterAll(() => deployment?.stop());

type Event = { completionStream: Record<string, any> };

function deployed(): TwoInstances {
  if (!deployment) throw new Error('the two server processes did not start');
  return deployment;
}

function instances(): [ServerProcess, ServerProcess] {
  return [deployed().a, deployed().b];
}

async function startOn(server: ServerProcess, key: string, tokens: string[], interTokenMs: number): Promise<string> {
  deployed().simulator.enqueue({ tokens, interTokenMs });
  const data = await gqlOk(server, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('Hello') } } });
  return data.startCompletion.id;
}

async function stream(server: ServerProcess, key: string, variables: Record<string, unknown>, onEvent?: (event: Record<string, any>, stop: () => void) => void) {
  const client = wsClient(server, key);
  try {
    const result = await collectFrom<Event>(client, streamQuery, variables, onEvent && ((data, stop) => onEvent(data.completionStream, stop)));
    expect(result.errors).toEqual([]);
    return result.data.map((d) => d.completionStream);
  } finally {
    await client.dispose();
  }
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i} `);
const indexes = (events: Record<string, any>[]) => events.map((e) => e.index);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('several instances on one Redis', () => {
  it('streams a completion running on A to a subscriber that joins on B mid-stream: every event from 0 once, in order, then the terminal event', async () => {
    const [onA, onB] = instances();
    const { key } = await fundedCustomer(onA);
    const tokens = words(20);
    const id = await startOn(onA, key, tokens, 50);
    let fromB: Promise<Record<string, any>[]> | undefined;
    let doneWhenBJoined: boolean | undefined;
    const fromA = await stream(onA, key, { id }, (event) => {
      if (event.index === 3 && !fromB) {
        doneWhenBJoined = event.done;
        fromB = stream(onB, key, { id });
      }
    });
    expect(doneWhenBJoined).toBe(false);
    const events = await fromB;
    expect(indexes(events ?? [])).toEqual(range(0, fromA.length - 1));
    expect(events).toEqual(fromA);
    expect(events?.filter((e) => e.done)).toHaveLength(1);
    expect(events?.at(-1)?.completion).toMatchObject({ status: 'SUCCEEDED', content: tokens.join('') });
  });

  it('replays every event on B of a completion that ended on A', async () => {
    const [onA, onB] = instances();
    const { key } = await fundedCustomer(onA);
    const id = await startOn(onA, key, words(8), 0);
    const fromA = await stream(onA, key, { id });
    const fromB = await stream(onB, key, { id });
    expect(fromB).toEqual(fromA);
    expect(fromB.at(-1)).toMatchObject({ done: true, completion: { status: 'SUCCEEDED' } });
  });

  it('gives a subscriber that reconnects on B with after=k exactly the events above k, and shows B the text so far', async () => {
    const [onA, onB] = instances();
    const { key } = await fundedCustomer(onA);
    const id = await startOn(onA, key, words(16), 50);
    const k = 4;
    const before = await stream(onB, key, { id }, (event, stop) => {
      if (event.index === k) stop();
    });
    const meanwhile = (await gqlOk(onB, `query($id: ID!) { completion(id: $id) { status content } }`, { token: key, variables: { id } })).completion;
    const after = await stream(onB, key, { id, after: k });
    expect(before.at(-1)?.done).toBe(false);
    expect(meanwhile.status).toBe('STREAMING');
    expect(meanwhile.content.startsWith(before.map((e) => e.delta).join(''))).toBe(true);
    expect(indexes(after)[0]).toBe(k + 1);
    const whole = await stream(onA, key, { id });
    expect([...before, ...after]).toEqual(whole);
  });

  it('cancels on B a completion running on A: it settles CANCELLED, the upstream request is closed and the charge is booked once', async () => {
    const [onA, onB] = instances();
    const { key } = await fundedCustomer(onA);
    const id = await startOn(onA, key, words(60), 50);
    const upstreamRequest = deployed().simulator.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    const cancelling: Promise<Record<string, any>>[] = [];
    const fromA = await stream(onA, key, { id }, (event) => {
      if (event.index === 2 && cancelling.length === 0) {
        cancelling.push(gqlOk(onB, `mutation($id: ID!) { cancelCompletion(id: $id) { ${completionFields} } }`, { token: key, variables: { id } }));
      }
    });
    const cancelled = (await cancelling[0])?.cancelCompletion;
    expect(cancelled).toMatchObject({ id, status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(cancelled.content.length).toBeGreaterThan(0);
    expect(cancelled.content.length).toBeLessThan(words(60).join('').length);
    expect(fromA.at(-1)?.completion).toMatchObject({ status: 'CANCELLED', content: cancelled.content, cost: cancelled.cost });
    expect(await upstreamRequest?.finished).toBe('client-closed');
    await expectLedgerInvariant({ pg: deployed().pool });
  });

  it('pushes a grant made on A to a balance subscriber on B', async () => {
    const [onA, onB] = instances();
    const { key, accountId } = await fundedCustomer(onA, '1');
    const client = wsClient(onB, key);
    const seen: string[] = [];
    try {
      await collectFrom<{ balance: { balance: string } }>(client, 'subscription { balance { balance } }', {}, (event, stop) => {
        seen.push(event.balance.balance);
        if (seen.length === 1) void grant(onA, accountId, '0.25');
        else stop();
      });
    } finally {
      await client.dispose();
    }
    expect(seen).toEqual(['1.00', '1.25']);
  });

  it('counts the completions a key starts per minute across instances', async () => {
    await clearOfMinuteEnd();
    const [onA, onB] = instances();
    const accountId = await createAccount(onA);
    const limited = await gqlOk(onA, 'mutation($id: ID!) { createApiKey(input: { accountId: $id, name: "rpm", limits: { requestsPerMinute: 2 } }) { secret } }', {
      token: onA.adminToken,
      variables: { id: accountId },
    });
    const key = limited.createApiKey.secret;
    await grant(onA, accountId, '5');
    // Windows are clock minutes (documented): keep the three starts inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const start = (on: ServerProcess) => gql(on, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('rpm'), maxTokens: 5 } } });
    expect((await start(onA)).errors).toBeUndefined();
    expect((await start(onB)).errors).toBeUndefined();
    const third = await start(onA);
    expect(third.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('ends on B the subscriptions of a key revoked on A, within seconds', async () => {
    const [onA, onB] = instances();
    const { key, keyId } = await fundedCustomer(onA);
    const client = wsClient(onB, key);
    const subscribed = collectFrom(client, 'subscription { balance { balance } }', {}, () => {
      void gqlOk(onA, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { token: onA.adminToken, variables: { id: keyId } });
    });
    const result = await subscribed;
    await client.dispose();
    expect(result.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  // Last: it kills A.
  it('ends the stream on B with INTERRUPTED when A dies mid-stream, and releases the reservation', async () => {
    const [onA, onB] = instances();
    const { key, accountId } = await fundedCustomer(onA);
    const id = await startOn(onA, key, words(1000), 20);
    const fromB = stream(onB, key, { id }, (event) => {
      if (event.index === 2) void onA.kill('SIGKILL');
    });
    const events = await fromB;
    expect(indexes(events)).toEqual(range(0, events.length - 1));
    expect(events.at(-1)).toMatchObject({ done: true, completion: { status: 'INTERRUPTED', cost: '0.00' } });
    const { rows } = await deployed().pool.query('select reserved::text from accounts where id = $1', [accountId]);
    expect(rows[0].reserved).toBe('0');
    await expectLedgerInvariant({ pg: deployed().pool });
  });
});
