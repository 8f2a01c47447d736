import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMutation, streamQuery, userMessage } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { startTwoInstances, type TwoInstances } from '../helpers/deployment.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

// An owner that stalls past INSTANCE_TIMEOUT_MS (SIGSTOP) is swept by the
// other instance; when it wakes (SIGCONT) it must learn that it lost the
// completion and stop: one terminal event, nothing after it, and the row's
// final state is the one subscribers saw.

let deployment: TwoInstances | undefined;

beforeAll(async () => {
  deployment = await startTwoInstances({
    // Long enough that the owner, awake again, goes on reading its upstream.
    UPSTREAM_IDLE_TIMEOUT_MS: '30000',
    INSTANCE_TIMEOUT_MS: '1500',
    SWEEP_INTERVAL_MS: '300',
  });
});

afterAll(() => deployment?.stop());

type Event = { completionStream: Record<string, any> };

describe('an owner that stalled past the instance timeout', () => {
  it('stops when it wakes: one terminal event, nothing readable after it, the row as subscribers saw it', async () => {
    if (!deployment) throw new Error('the two server processes did not start');
    const { a: owner, b: other, simulator, pool } = deployment;
    const { key, accountId } = await fundedCustomer(owner);
    simulator.enqueue({ tokens: Array.from({ length: 300 }, (_, i) => `w${i} `), interTokenMs: 20 });
    const upstreamCalls = simulator.requests.length;
    const started = await gqlOk(owner, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('go'), maxTokens: 1000 } } });
    const id = started.startCompletion.id as string;

    const follower = wsClient(other, key);
    const seen = await collectFrom<Event>(follower, streamQuery, { id }, (data) => {
      if (data.completionStream.index === 3) owner.process.kill('SIGSTOP');
    });
    await follower.dispose();
    expect(seen.errors).toEqual([]);
    const events = seen.data.map((d) => d.completionStream);
    expect(events.at(-1)).toMatchObject({ done: true, completion: { status: 'INTERRUPTED', cost: '0.00' } });

    owner.process.kill('SIGCONT');
    // Awake, the owner learns it lost the completion and closes its upstream request.
    await expect(simulator.requests[upstreamCalls]!.finished).resolves.toBe('client-closed');

    expect(events.filter((e) => e.done)).toHaveLength(1);
    expect(events.map((e) => e.index)).toEqual(events.map((_, i) => i));
    // Nothing was appended after the end: a reader from an early index gets what the follower got.
    const again = wsClient(owner, key);
    const replay = await collectFrom<Event>(again, streamQuery, { id, after: 2 });
    await again.dispose();
    expect(replay.data.map((d) => d.completionStream)).toEqual(events.slice(3));
    const { rows } = await pool.query('select status, cost::text from completions where id = $1', [id]);
    expect(rows[0]).toEqual({ status: 'INTERRUPTED', cost: '0' });
    const reserved = await pool.query('select reserved::text from accounts where id = $1', [accountId]);
    expect(reserved.rows[0].reserved).toBe('0');
    await expectLedgerInvariant({ pg: pool });
  }, 60_000);
});
