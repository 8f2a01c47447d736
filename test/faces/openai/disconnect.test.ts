import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIUserAbortError } from 'openai';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { settledNewest, startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import { openaiClient } from '../../helpers/openai-client.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

const request = { model: 'claude-haiku-4-5', messages: [{ role: 'user' as const, content: 'Tell me a long story' }] };

describe('a REST client that goes away', () => {
  it('cancels its streaming completion: the upstream request is closed and only what was generated is charged', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 500, interTokenMs: 20 });
    const stream = await openaiClient(server, key).chat.completions.create({ ...request, stream: true });
    let received = '';
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta.content ?? '';
      if (received.length > 20) break;
    }
    const upstream = simulator.requests.at(-1)!;
    expect(await upstream.finished).toBe('client-closed');
    expect(upstream.closedByClient).toBe(true);
    const completion = await settledNewest(server, key);
    expect(completion).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(completion.content.startsWith(received)).toBe(true);
    expect(completion.content.length).toBeLessThan(500 * 3);
    expect(Number(completion.cost)).toBeGreaterThan(0);
    expect(Number(completion.cost)).toBeLessThan(Number(completion.reserved));
    await expectLedgerInvariant(server);
  });

  it('cancels its non-streaming completion when it aborts the request', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 500, interTokenMs: 20 });
    const abort = new AbortController();
    const answer = openaiClient(server, key).chat.completions.create(request, { signal: abort.signal }).catch((e: unknown) => e);
    setTimeout(() => abort.abort(), 300);
    expect(await answer).toBeInstanceOf(APIUserAbortError);
    const upstream = simulator.requests.at(-1)!;
    expect(await upstream.finished).toBe('client-closed');
    const completion = await settledNewest(server, key);
    expect(completion).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(Number(completion.cost)).toBeGreaterThan(0);
    await expectLedgerInvariant(server);
  });
  it('with an Idempotency-Key lets its completion run on, and a retry with the key receives the whole answer, charged once', async () => {
    const { key } = await fundedCustomer(server);
    const idempotencyKey = `retry-${Date.now()}`;
    simulator.enqueue({ words: 60, interTokenMs: 10 });
    const upstreamRequests = simulator.requests.length;
    const client = openaiClient(server, key);
    const first = await client.chat.completions.create({ ...request, stream: true }, { headers: { 'Idempotency-Key': idempotencyKey } });
    let partial = '';
    for await (const chunk of first) {
      partial += chunk.choices[0]?.delta.content ?? '';
      if (partial.length > 20) break;
    }
    const retry = await client.chat.completions.create({ ...request, stream: true }, { headers: { 'Idempotency-Key': idempotencyKey } });
    let answer = '';
    for await (const chunk of retry) answer += chunk.choices[0]?.delta.content ?? '';
    const { rows } = await server.pg.query(
      `select c.status, c.content, c.cost::text, (select count(*)::int from ledger_entries l where l.completion_id = c.id and l.kind = 'CHARGE') as charges
       from completions c where c.idempotency_key = $1`,
      [idempotencyKey],
    );
    expect(rows).toEqual([{ status: 'SUCCEEDED', content: answer, cost: expect.any(String), charges: 1 }]);
    expect(answer.startsWith(partial)).toBe(true);
    expect(simulator.requests.length).toBe(upstreamRequests + 1);
    await expectLedgerInvariant(server);
  });
});
