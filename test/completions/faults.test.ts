import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorScript, Simulator } from '../../src/simulator/simulator.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { startCompletion, startServerWithSimulator, streamQuery } from '../helpers/completions.js';
import { collectFrom } from '../helpers/subscriptions.js';
import type { TestServer } from '../helpers/server.js';
import { wsClient } from '../helpers/ws.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  // Short upstream timeouts so that a stall fails fast. No retries: each
  // fault strikes once and is the completion's end (the retries before any
  // output are upstream-resilience.test.ts's).
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '400', UPSTREAM_IDLE_TIMEOUT_MS: '250', UPSTREAM_MAX_ATTEMPTS: '1' }));
});
afterAll(() => server.stop());

const faults: [string, SimulatorScript, string][] = [
  ['an HTTP 500', { fault: 'http500' }, 'UPSTREAM_HTTP'],
  ['an HTTP 429 with retry-after', { fault: 'http429', retryAfterSeconds: 3 }, 'UPSTREAM_RATE_LIMITED'],
  ['a connection reset mid-stream', { fault: 'reset', afterTokens: 3 }, 'UPSTREAM_NETWORK'],
  ['a malformed chunk', { fault: 'malformed', afterTokens: 2 }, 'UPSTREAM_MALFORMED'],
  ['a stall mid-stream', { fault: 'stall', afterTokens: 2 }, 'UPSTREAM_TIMEOUT'],
  ['a stall before the first token', { fault: 'stall', afterTokens: 0 }, 'UPSTREAM_TIMEOUT'],
];

describe('an upstream failure', () => {
  for (const [what, script, code] of faults) {
    it(`after ${what} ends FAILED with ${code}, charges nothing and leaves the server serving`, async () => {
      const { key } = await fundedCustomer(server, '2');
      simulator.enqueue(script);
      const started = await startCompletion(server, key, {});
      const client = wsClient(server, key);
      const { data, errors } = await collectFrom<{ completionStream: any }>(client, streamQuery, { id: started.id });
      await client.dispose();
      expect(errors).toEqual([]);
      const final = data.at(-1)!.completionStream;
      expect(final.done).toBe(true);
      expect(final.completion).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code } });
      expect(final.completion.error.message).not.toMatch(/th-upstream-test-key/);
      const viewer = (await gqlOk(server, '{ viewer { balance reserved } }', { token: key })).viewer;
      expect(viewer).toEqual({ balance: '2.00', reserved: '0.00' });
      const { rows } = await server.pg.query(`select count(*)::int as n from ledger_entries where completion_id = $1`, [started.id]);
      expect(rows[0].n).toBe(0);
      await expectLedgerInvariant(server);
      simulator.enqueue({ text: 'still here' });
      const next = await startCompletion(server, key, {});
      expect(next.status).toBe('PENDING');
    });
  }
});
