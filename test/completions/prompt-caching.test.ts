import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { runToEnd, startServerWithSimulator } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { openaiClient } from '../helpers/openai-client.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

const credits = (units: bigint) => {
  const whole = units / 1_000_000_000n;
  const fraction = (units % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
};

// 400 characters: the simulator counts ceil(400 / 4) + 4 = 104 prompt tokens.
const prompt = [{ role: 'user', content: 'p'.repeat(400) }];
const promptTokens = 104;

const updateModel = (input: Record<string, unknown>) =>
  gql(server, 'mutation($input: UpdateModelInput!) { updateModel(input: $input) { id inputPricePerMillion cacheReadPricePerMillion cacheWritePricePerMillion } }', {
    token: server.adminToken,
    variables: { input },
  });

describe('prompt caching', () => {
  it('seeds every model with cache reads at 0.1× and cache writes at 1.25× its input price', async () => {
    const { models } = await gqlOk(server, '{ models { id inputPricePerMillion cacheReadPricePerMillion cacheWritePricePerMillion } }');
    expect(models).toHaveLength(10);
    for (const m of models) {
      const input = Number(m.inputPricePerMillion);
      expect(Number(m.cacheReadPricePerMillion), m.id).toBeCloseTo(input * 0.1, 9);
      expect(Number(m.cacheWritePricePerMillion), m.id).toBeCloseTo(input * 1.25, 9);
    }
    expect(models.find((m: any) => m.id === 'anthropic/claude-sonnet-4-6')).toMatchObject({ cacheReadPricePerMillion: '0.30', cacheWritePricePerMillion: '3.75' });
  });

  it('charges uncached prompt tokens, cache reads, cache writes and output each at its own price, exactly', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ words: 5, cachedPromptTokens: 60, cacheWriteTokens: 20 });
    const final = await runToEnd(server, key, { model: 'claude-haiku-4-5', messages: prompt });
    expect(final.usage).toEqual({ promptTokens, completionTokens: 5, totalTokens: promptTokens + 5, cachedPromptTokens: 60, cacheWriteTokens: 20, estimated: false });
    // Haiku 4.5 per token: input 1000, cache read 100, cache write 1250, output 5000 nanocredits.
    const expected = BigInt(promptTokens - 60 - 20) * 1000n + 60n * 100n + 20n * 1250n + 5n * 5000n;
    expect(final.cost).toBe(credits(expected));
    const { rows } = await server.pg.query(`select amount::text from ledger_entries where completion_id = $1 and kind = 'CHARGE'`, [final.id]);
    expect(rows).toEqual([{ amount: `-${expected}` }]);
    await expectLedgerInvariant(server);
  });

  it('covers with its reservation a prompt written whole to the cache, and charges it in full at the cache-write price', async () => {
    const { key } = await fundedCustomer(server, '1');
    // A prompt that outweighs the output in the reservation.
    const long = [{ role: 'user', content: 'word '.repeat(8_000) }];
    simulator.enqueue({ words: 5, cacheWriteTokens: 10_000 });
    const final = await runToEnd(server, key, { model: 'claude-haiku-4-5', messages: long });
    expect(final.usage).toMatchObject({ cacheWriteTokens: 10_000, completionTokens: 5, estimated: false });
    // Haiku 4.5 per token: input 1000, cache write 1250 (1.25×), output 5000 nanocredits.
    const expected = BigInt(final.usage.promptTokens - 10_000) * 1000n + 10_000n * 1250n + 5n * 5000n;
    expect(final.cost).toBe(credits(expected));
    // The reservation counts the prompt as a token per byte at the input price, which a write's 1.25× fits in.
    expect(BigInt(Math.round(Number(final.reserved) * 1e9))).toBeGreaterThanOrEqual(expected);
    await expectLedgerInvariant(server);
  });

  it('treats cache counts larger than the prompt tokens as no usage, and charges a marked estimate', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ words: 5, cachedPromptTokens: promptTokens, cacheWriteTokens: 1 });
    const final = await runToEnd(server, key, { model: 'claude-haiku-4-5', messages: prompt });
    expect(final.usage).toMatchObject({ cachedPromptTokens: 0, cacheWriteTokens: 0, estimated: true });
    await expectLedgerInvariant(server);
  });

  it('charges a completion at the cache prices the admin set, copied when it started', async () => {
    const { key } = await fundedCustomer(server, '1');
    const changed = await updateModel({ id: 'claude-3-5-haiku-latest', cacheReadPricePerMillion: '0.05', cacheWritePricePerMillion: '2' });
    expect(changed.data?.updateModel).toMatchObject({ inputPricePerMillion: '0.80', cacheReadPricePerMillion: '0.05', cacheWritePricePerMillion: '2.00' });
    try {
      simulator.enqueue({ words: 3, cachedPromptTokens: 50, cacheWriteTokens: 10 });
      const final = await runToEnd(server, key, { model: 'claude-3-5-haiku-latest', messages: prompt });
      const expected = BigInt(promptTokens - 60) * 800n + 50n * 50n + 10n * 2000n + 3n * 4000n;
      expect(final.cost).toBe(credits(expected));
      const { rows } = await server.pg.query('select cache_read_price_per_million::text as r, cache_write_price_per_million::text as w from completions where id = $1', [final.id]);
      expect(rows).toEqual([{ r: '50000000', w: '2000000000' }]);
    } finally {
      await updateModel({ id: 'claude-3-5-haiku-latest', cacheReadPricePerMillion: '0.08', cacheWritePricePerMillion: '1.00' });
    }
  });

  it('refuses a cache price that is not whole nanocredits per token', async () => {
    const refused = await updateModel({ id: 'claude-haiku-4-5', cacheReadPricePerMillion: '0.0001' });
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.extensions?.field).toBe('cacheReadPricePerMillion');
  });

  it('passes cache_control on content parts to the upstream', async () => {
    const { key } = await fundedCustomer(server, '1');
    const content = [{ type: 'text', text: 'A long shared preamble.', cache_control: { type: 'ephemeral' } }];
    await runToEnd(server, key, { messages: [{ role: 'system', content }, { role: 'user', content: 'Hi' }] });
    const sent = simulator.requests.at(-1)!.body as any;
    expect(sent.messages[0]).toEqual({ role: 'system', content });
  });

  it('shows the cached and cache-write counts in REST usage, inside prompt_tokens', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ words: 4, cachedPromptTokens: 70, cacheWriteTokens: 30 });
    const answer = await openaiClient(server, key).chat.completions.create({ model: 'claude-haiku-4-5', messages: prompt as any });
    expect(answer.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 70, cache_write_tokens: 30 } });
    expect((answer.usage as any).cost).toBe(credits(BigInt(promptTokens - 100) * 1000n + 70n * 100n + 30n * 1250n + 4n * 5000n));
  });
});
