import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { createAccount, createKey, fundedCustomer, grant } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { runToEnd, startCompletion, startMutation, startServerWithSimulator, userMessage } from '../helpers/completions.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  // A long first-byte timeout, so a stalled upstream holds a reservation as long as a test needs.
  // The sweeps run statements of their own on a timer; counts of statements per completion leave them out.
  // No retries: a failed probe must not take the upstream scripts queued for the next completions.
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '60000', SWEEP_INTERVAL_MS: '3600000', KEY_CHECK_INTERVAL_MS: '3600000', UPSTREAM_MAX_ATTEMPTS: '1' }));
});
afterAll(() => server.stop());


const balance = async (token: string) =>
  (await gqlOk(server, '{ viewer { balance reserved available } }', { token })).viewer as { balance: string; reserved: string; available: string };

// Prices in nanocredits per token, from the pricing table (USD per million / 10^6 × 10^9).
const pricePerToken: Record<string, [bigint, bigint]> = {
  'claude-3-5-haiku-latest': [800n, 4000n],
  'claude-sonnet-4-6': [3000n, 15000n],
  'claude-4-opus': [15000n, 75000n],
  'claude-haiku-4-5': [1000n, 5000n],
};

const credits = (units: bigint) => {
  const whole = units / 1_000_000_000n;
  const fraction = (units % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
};

describe('a successful completion', () => {
  for (const model of Object.keys(pricePerToken)) {
    it(`charges exactly prompt × input price + completion × output price for ${model}`, async () => {
      const { key } = await fundedCustomer(server, '5');
      simulator.enqueue({ words: 37 });
      const final = await runToEnd(server, key, { model, messages: userMessage('Price me exactly, please.') });
      const [input, output] = pricePerToken[model]!;
      const expected = BigInt(final.usage.promptTokens) * input + BigInt(final.usage.completionTokens) * output;
      expect(final.usage.completionTokens).toBe(37);
      expect(final.usage.estimated).toBe(false);
      expect(final.cost).toBe(credits(expected));
      expect((await balance(key)).balance).toBe(credits(5_000_000_000n - expected));
      const { rows } = await server.pg.query(`select amount::text, kind from ledger_entries where completion_id = $1`, [final.id]);
      expect(rows).toEqual([{ amount: `-${expected}`, kind: 'CHARGE' }]);
      await expectLedgerInvariant(server);
    });
  }

  it('charges a completion costing more than 2^31 nanocredits exactly', async () => {
    const { key } = await fundedCustomer(server, '10');
    simulator.enqueue({ words: 30_000 });
    const final = await runToEnd(server, key, { model: 'claude-4-opus', maxTokens: 32_000, messages: userMessage('A long one.') });
    expect(final.status).toBe('SUCCEEDED');
    const expected = BigInt(final.usage.promptTokens) * 15_000n + 30_000n * 75_000n;
    expect(expected).toBeGreaterThan(2n ** 31n);
    expect(final.cost).toBe(credits(expected));
    expect((await balance(key)).balance).toBe(credits(10_000_000_000n - expected));
    await expectLedgerInvariant(server);
  });

  const implausibleUsage: [string, number, number][] = [
    ['negative', -5, -1_000_000],
    ['fractional', 10.5, 3],
    ['beyond a 32-bit count', 2 ** 40, 5],
  ];
  for (const [what, prompt, completion] of implausibleUsage) {
    it(`treats ${what} usage from the upstream as none, and charges a marked estimate`, async () => {
      const { key } = await fundedCustomer(server, '1');
      simulator.enqueue({ text: 'abcd'.repeat(10), usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
      const final = await runToEnd(server, key, { messages: userMessage('x'.repeat(40)) });
      expect(final).toMatchObject({ status: 'SUCCEEDED', usage: { promptTokens: 18, completionTokens: 10, estimated: true } });
      expect(final.cost).toBe(credits(18n * 1000n + 10n * 5000n));
      await expectLedgerInvariant(server);
    });
  }

  it('never charges more than the reservation, even when the upstream reports more', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ text: 'short', usage: { prompt_tokens: 5, completion_tokens: 2_000_000, total_tokens: 2_000_005 } });
    const final = await runToEnd(server, key, { maxTokens: 100 });
    expect(final.status).toBe('SUCCEEDED');
    expect(final.usage).toMatchObject({ completionTokens: 2_000_000, estimated: false });
    expect(final.cost).toBe(final.reserved);
    await expectLedgerInvariant(server);
  });

  it('releases the whole reservation when it settles', async () => {
    const { key } = await fundedCustomer(server, '1');
    await runToEnd(server, key, {});
    const after = await balance(key);
    expect(after.reserved).toBe('0.00');
    expect(after.available).toBe(after.balance);
  });

  it('still succeeds without usage from the upstream, and charges a marked estimate', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ text: 'abcd'.repeat(10), noUsage: true, finishOnLastContent: true, omitCreated: true });
    const final = await runToEnd(server, key, { messages: userMessage('x'.repeat(40)) });
    expect(final.status).toBe('SUCCEEDED');
    expect(final.usage.estimated).toBe(true);
    // 1 token per 4 bytes: 40 output bytes → 10 tokens; prompt 40 bytes → 10 + 8 per message.
    expect(final.usage).toMatchObject({ promptTokens: 18, completionTokens: 10 });
    expect(final.cost).toBe(credits(18n * 1000n + 10n * 5000n));
    await expectLedgerInvariant(server);
  });
});

describe('reservations', () => {
  it('refuse a completion whose worst case exceeds the available credits with INSUFFICIENT_CREDITS and store nothing', async () => {
    const { key, accountId } = await fundedCustomer(server, '0.001');
    const response = await gql(server, startMutation, {
      token: key,
      variables: { input: { model: 'claude-4-opus', messages: userMessage('hi'), maxTokens: 1000 } },
    });
    expect(codeOf(response)).toBe('INSUFFICIENT_CREDITS');
    expect(response.errors?.[0]?.message).toMatch(/maxTokens/);
    const { rows } = await server.pg.query('select count(*)::int as n from completions where account_id = $1', [accountId]);
    expect(rows[0].n).toBe(0);
    expect(await balance(key)).toEqual({ balance: '0.001', reserved: '0.00', available: '0.001' });
  });

  it('accept exactly as many of 50 concurrent starts as the balance covers worst cases', async () => {
    const input = { model: 'claude-sonnet-4-6', messages: userMessage('Race me'), maxTokens: 500 };
    // Learn the worst case from one completion on a rich account.
    const probe = await fundedCustomer(server, '100');
    simulator.enqueue({ fault: 'http500' });
    const { reserved } = await startCompletion(server, probe.key, input);

    const accountId = await createAccount(server);
    const [whole, fraction = ''] = reserved.split('.');
    const worstCase = BigInt(whole) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
    await grant(server, accountId, credits(worstCase * 10n));
    const { secret } = await createKey(server, accountId);
    // Accepted streams stall until cancelled, so no early finish frees credits mid-race.
    for (let i = 0; i < 10; i++) simulator.enqueue({ fault: 'stall' });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => gql(server, startMutation, { token: secret, variables: { input } })),
    );
    const accepted = results.filter((r) => r.data?.startCompletion).map((r) => r.data!.startCompletion.id as string);
    const refused = results.filter((r) => codeOf(r) === 'INSUFFICIENT_CREDITS');
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(40);
    expect((await balance(secret)).available).toBe('0.00');
    await expectLedgerInvariant(server);
    const cancel = 'mutation($id: ID!) { cancelCompletion(id: $id) { status cost } }';
    const cancelled = await Promise.all(accepted.map((id) => gqlOk(server, cancel, { token: secret, variables: { id } })));
    // Nothing was generated before the cancel, so nothing is charged.
    expect(cancelled.map((c) => c.cancelCompletion)).toEqual(accepted.map(() => ({ status: 'CANCELLED', cost: '0.00' })));
    expect(await balance(secret)).toMatchObject({ reserved: '0.00', balance: credits(worstCase * 10n) });
    await expectLedgerInvariant(server);
  });
});

describe('idempotent starts', () => {
  it('return the same completion for a retry with the same key and charge once', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    const input = { idempotencyKey: 'retry-1' };
    const first = await startCompletion(server, key, input);
    const second = await startCompletion(server, key, input);
    expect(second.id).toBe(first.id);
    await runToEnd(server, key, { idempotencyKey: 'retry-1' });
    const { rows } = await server.pg.query(
      `select (select count(*) from completions where account_id = $1)::int as completions,
              (select count(*) from ledger_entries where account_id = $1 and kind = 'CHARGE')::int as charges`,
      [accountId],
    );
    expect(rows[0]).toEqual({ completions: 1, charges: 1 });
  });

  it('all get the one completion when retries race on a balance covering one worst case', async () => {
    const probe = await fundedCustomer(server, '100');
    simulator.enqueue({ fault: 'http500' });
    const { reserved } = await startCompletion(server, probe.key, {});
    const { key } = await fundedCustomer(server, reserved);
    simulator.enqueue({ fault: 'stall' });
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(server, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('Hello there'), idempotencyKey: 'one' } } })));
    expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));
    const ids = new Set(results.map((r) => r.data!.startCompletion.id));
    expect(ids.size).toBe(1);
    await gqlOk(server, 'mutation($id: ID!) { cancelCompletion(id: $id) { id } }', { token: key, variables: { id: [...ids][0] } });
    await expectLedgerInvariant(server);
  });

  it('refuse the key reused with a different request with BAD_USER_INPUT, and start nothing', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    const first = await startCompletion(server, key, { idempotencyKey: 'reused' });
    const other = await gql(server, startMutation, {
      token: key,
      variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('Another question'), idempotencyKey: 'reused' } },
    });
    expect(codeOf(other)).toBe('BAD_USER_INPUT');
    expect(other.errors?.[0]?.extensions?.field).toBe('idempotencyKey');
    expect(other.errors?.[0]?.message).toContain(first.id);
    const { rows } = await server.pg.query('select count(*)::int as n from completions where account_id = $1', [accountId]);
    expect(rows[0].n).toBe(1);
  });

  it('treat a model alias and its id as the same request', async () => {
    const { key } = await fundedCustomer(server, '1');
    const byAlias = await startCompletion(server, key, { model: 'claude-haiku-4-5', idempotencyKey: 'alias' });
    const byId = await startCompletion(server, key, { model: 'anthropic/claude-haiku-4-5', idempotencyKey: 'alias' });
    expect(byId.id).toBe(byAlias.id);
  });

  it('start one completion when ten retries with one key race', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(server, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('Hello there'), idempotencyKey: 'race' } } })));
    expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));
    expect(new Set(results.map((r) => r.data!.startCompletion.id)).size).toBe(1);
    const { rows } = await server.pg.query('select count(*)::int as n from completions where account_id = $1', [accountId]);
    expect(rows[0].n).toBe(1);
    await expectLedgerInvariant(server);
  });
});

describe('writes per completion', () => {
  it('are two writes and a constant number of statements, whatever the length of the answer', async () => {
    const { key } = await fundedCustomer(server, '5');
    // The key's first use records lastUsedAt (once a minute); keep it out of the count.
    await gqlOk(server, '{ viewer { id } }', { token: key });
    const statementsFor = async (words: number) => {
      // Still running when the subscriber attaches, so both runs take the same path.
      simulator.enqueue({ words, ttftMs: 1000 });
      const before = server.statements.length;
      await runToEnd(server, key, { maxTokens: 2000 });
      // The catalogue is read at most once per 5 s per instance, not per completion.
      const statements = server.statements.slice(before).filter((s) => !/from "models"/.test(s));
      // Their first words, so that a failure shows which statement came in addition.
      const all = statements.map((s) => s.trim().split(/\s+/).slice(0, 4).join(' '));
      return { all, writes: statements.filter((s) => /^\s*(with|insert|update|delete)/i.test(s)).length };
    };
    const short = await statementsFor(5);
    const long = await statementsFor(1500);
    expect(short.writes).toBe(2);
    expect(long).toEqual(short);
    // reserve + insert; settle. The key was read before (once per
    // KEY_CHECK_INTERVAL_MS, not per request), the running completion is
    // known in memory and its model comes from the cache.
    expect(short.all).toHaveLength(2);
  });

});
