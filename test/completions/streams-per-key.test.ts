import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { startServerWithSimulator } from '../helpers/completions.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import type { TestServer } from '../helpers/server.js';

// Concurrent starts of one key over MAX_STREAMS_PER_KEY: the place of each
// stream is held before its completion starts, so those refused (429,
// RATE_LIMITED) reserved, ran and charged nothing. It once was checked before
// the start and again after: all passed the first, the losers ran and were
// charged while their clients were told to retry.

describe('starts of one key beyond MAX_STREAMS_PER_KEY at once', () => {
  let server: TestServer;
  let simulator: Simulator;
  beforeAll(async () => {
    ({ server, simulator } = await startServerWithSimulator({ MAX_STREAMS_PER_KEY: '2' }));
  });
  afterAll(() => server.stop());

  for (const face of ['openai', 'anthropic'] as const) {
    it(`${face}: a start refused 429 for the stream cap has started, reserved or charged nothing`, async () => {
      const { key, accountId } = await fundedCustomer(server, '5');
      for (let i = 0; i < 8; i++) simulator.enqueue({ words: 5, ttftMs: 300 });
      const request = () =>
        face === 'openai'
          ? fetch(`${server.url}/v1/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
              body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }),
            })
          : fetch(`${server.url}/v1/messages`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
              body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }),
            });
      const responses = await Promise.all(Array.from({ length: 8 }, request));
      const statuses = responses.map((r) => r.status);
      await Promise.all(responses.map((r) => r.text()));
      const delivered = statuses.filter((s) => s === 200).length;
      expect(statuses.filter((s) => s === 429)).toHaveLength(6);
      await expect
        .poll(async () => (await server.pg.query(`select count(*)::int n from completions where account_id = $1 and status in ('PENDING','STREAMING')`, [accountId])).rows[0].n, { timeout: 15_000 })
        .toBe(0);
      const { rows } = await server.pg.query(`select status, cost::text from completions where account_id = $1`, [accountId]);
      const charged = rows.filter((r) => r.status === 'SUCCEEDED').length;
      // Every completion charged was delivered to someone; every refusal changed nothing.
      expect(charged).toBe(delivered);
      expect(rows.length).toBe(delivered);
      await expectLedgerInvariant(server);
    });
  }

  it('graphql-ws streamCompletion: a subscription refused RATE_LIMITED for the stream cap started nothing', async () => {
    const { key, accountId } = await fundedCustomer(server, '5');
    const client = wsClient(server, key);
    try {
      const query = `subscription($input: CompletionInput!) { streamCompletion(input: $input) { index done completion { id status } } }`;
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          collectFrom<{ streamCompletion: { done: boolean } }>(client, query, { input: { model: 'claude-haiku-4-5', maxTokens: 50, messages: [{ role: 'user', content: `Hello ${i} [sim:words=5,ttft=300]` }] } }),
        ),
      );
      const delivered = runs.filter((r) => r.errors.length === 0 && r.data.at(-1)?.streamCompletion.done).length;
      const refused = runs.filter((r) => r.errors.some((e) => e.extensions?.code === 'RATE_LIMITED')).length;
      expect(refused).toBe(6);
      await expect
        .poll(async () => (await server.pg.query(`select count(*)::int n from completions where account_id = $1 and status in ('PENDING','STREAMING')`, [accountId])).rows[0].n, { timeout: 15_000 })
        .toBe(0);
      const { rows } = await server.pg.query(`select status from completions where account_id = $1`, [accountId]);
      expect(rows.length).toBe(delivered);
    } finally {
      await client.dispose();
    }
  });
});
