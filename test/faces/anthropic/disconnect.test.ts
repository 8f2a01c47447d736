import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIUserAbortError } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { anthropicClient } from '../../helpers/anthropic-client.js';
import { settledNewest, startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

const request: Anthropic.MessageCreateParamsNonStreaming = { model: 'claude-haiku-4-5', max_tokens: 2_000, messages: [{ role: 'user', content: 'Tell me a long story' }] };

describe('an Anthropic client that goes away', () => {
  it('cancels its streaming completion: the upstream request is closed and only what was generated is charged', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 500, interTokenMs: 20 });
    const stream = anthropicClient(server, key).messages.stream(request);
    let received = '';
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') received += event.delta.text;
      if (received.length > 20) break;
    }
    const upstream = simulator.requests.at(-1)!;
    expect(await upstream.finished).toBe('client-closed');
    const completion = await settledNewest(server, key);
    expect(completion).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(completion.content.startsWith(received)).toBe(true);
    expect(Number(completion.cost)).toBeGreaterThan(0);
    expect(Number(completion.cost)).toBeLessThan(Number(completion.reserved));
    await expectLedgerInvariant(server);
  });

  it('cancels its non-streaming completion when it aborts the request', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 500, interTokenMs: 20 });
    const abort = new AbortController();
    const answer = anthropicClient(server, key).messages.create(request, { signal: abort.signal }).catch((e: unknown) => e);
    setTimeout(() => abort.abort(), 300);
    expect(await answer).toBeInstanceOf(APIUserAbortError);
    expect(await simulator.requests.at(-1)!.finished).toBe('client-closed');
    expect(await settledNewest(server, key)).toMatchObject({ status: 'CANCELLED' });
    await expectLedgerInvariant(server);
  });

  it('with an Idempotency-Key lets its completion run on, and a retry with the key receives the whole answer, charged once', async () => {
    const { key } = await fundedCustomer(server);
    const headers = { 'Idempotency-Key': `anthropic-disconnect-${Date.now()}` };
    simulator.enqueue({ words: 60, interTokenMs: 10 });
    const upstreamRequests = simulator.requests.length;
    const client = anthropicClient(server, key);
    let partial = '';
    for await (const event of client.messages.stream(request, { headers })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') partial += event.delta.text;
      if (partial.length > 20) break;
    }
    const final = await client.messages.stream(request, { headers }).finalMessage();
    const text = (final.content[0] as Anthropic.TextBlock).text;
    expect(text.startsWith(partial)).toBe(true);
    const { rows } = await server.pg.query(
      `select c.status, c.content, (select count(*)::int from ledger_entries l where l.completion_id = c.id and l.kind = 'CHARGE') as charges
       from completions c where c.idempotency_key = $1`,
      [headers['Idempotency-Key']],
    );
    expect(rows).toEqual([{ status: 'SUCCEEDED', content: text, charges: 1 }]);
    expect(simulator.requests.length).toBe(upstreamRequests + 1);
    await expectLedgerInvariant(server);
  });
});
