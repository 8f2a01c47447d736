import { APIError, OverloadedError } from '@anthropic-ai/sdk';
import { RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator, SimulatorRequestRecord } from '../../src/simulator/simulator.js';
import { anthropicClient } from '../helpers/anthropic-client.js';
import { runToEnd, startCompletion, startMutation, startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { openaiClient } from '../helpers/openai-client.js';
import type { TestServer } from '../helpers/server.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

// Retries, the fallback model and the circuit breaker, against the
// simulator as a real HTTP upstream. Each breaker test uses a model of its
// own: breakers are per upstream model.

const HAIKU: [bigint, bigint] = [1000n, 5000n]; // nanocredits per prompt / completion token
const HAIKU_3_5: [bigint, bigint] = [800n, 4000n];

const credits = (units: bigint) => {
  const whole = units / 1_000_000_000n;
  const fraction = (units % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
};

const chargeOf = (usage: { promptTokens: number; completionTokens: number }, [input, output]: [bigint, bigint]) =>
  BigInt(usage.promptTokens) * input + BigInt(usage.completionTokens) * output;

/** The chat requests the simulator received from now on. */
function upstreamCalls(simulator: Simulator): () => SimulatorRequestRecord[] {
  const from = simulator.requests.length;
  return () => simulator.requests.slice(from).filter((r) => r.path === '/v1/chat/completions');
}

async function ledgerOf(server: TestServer, completionId: string) {
  const { rows } = await server.pg.query(`select amount::text, kind from ledger_entries where completion_id = $1`, [completionId]);
  return rows;
}

const account = async (server: TestServer, token: string) =>
  (await gqlOk(server, '{ viewer { balance reserved } }', { token })).viewer as { balance: string; reserved: string };

const resilienceFields = 'id status cost model { id } answeredModel { id } usage { promptTokens completionTokens } error { code retryAfter }';

describe('retries before any output', () => {
  let server: TestServer;
  let simulator: Simulator;
  beforeAll(async () => {
    // A breaker that never opens here: these tests fail calls on purpose.
    ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_BREAKER_THRESHOLD: '1000' }));
  });
  afterAll(() => server.stop());

  it('retries a 429 after its retry-after, then succeeds and charges once', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 1 });
    simulator.enqueue({ words: 5 });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', error: null });
    expect(calls()).toHaveLength(2);
    const [first, second] = calls();
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1000);
    const charge = chargeOf(final.usage, HAIKU);
    expect(final.cost).toBe(credits(charge));
    expect(await ledgerOf(server, final.id)).toEqual([{ amount: `-${charge}`, kind: 'CHARGE' }]);
    expect(await account(server, key)).toEqual({ balance: credits(1_000_000_000n - charge), reserved: '0.00' });
    await expectLedgerInvariant(server);
  });

  it('retries an HTTP 500, then succeeds', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'http500' });
    simulator.enqueue({ words: 5 });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', cost: credits(chargeOf(final.usage, HAIKU)) });
    expect(calls()).toHaveLength(2);
    await expectLedgerInvariant(server);
  });

  it('retries a connection reset before any output, then succeeds', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'reset', afterTokens: 0 });
    simulator.enqueue({ words: 5 });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', cost: credits(chargeOf(final.usage, HAIKU)) });
    expect(calls()).toHaveLength(2);
    await expectLedgerInvariant(server);
  });

  it('does not retry a reset after output: FAILED, nothing charged, one upstream call', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'reset', afterTokens: 2 });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_NETWORK' } });
    expect(calls()).toHaveLength(1);
    expect(await ledgerOf(server, final.id)).toEqual([]);
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
    await expectLedgerInvariant(server);
  });

  it('does not retry a request the upstream refused as invalid (HTTP 400): FAILED UPSTREAM_REFUSED', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    // An unknown directive makes the simulator answer 400.
    const final = await runToEnd(server, key, { messages: userMessage('Hello [sim:nonsense]') });
    expect(final).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_REFUSED' } });
    expect(calls()).toHaveLength(1);
  });

  it('ends CANCELLED with nothing charged and no further call when cancelled during the wait', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 1 });
    const started = await startCompletion(server, key, {});
    await expect.poll(() => calls().length).toBe(1);
    const cancelled = await gqlOk(server, `mutation($id: ID!) { cancelCompletion(id: $id) { ${resilienceFields} } }`, { token: key, variables: { id: started.id } });
    expect(cancelled.cancelCompletion).toMatchObject({ status: 'CANCELLED', cost: '0.00' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls()).toHaveLength(1);
    expect(await ledgerOf(server, started.id)).toEqual([]);
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
    await expectLedgerInvariant(server);
  });

  it('ends FAILED UPSTREAM_RATE_LIMITED with the upstream retry-after when every attempt is rate limited', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    for (let i = 0; i < 3; i++) simulator.enqueue({ fault: 'http429', retryAfterSeconds: 1 });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_RATE_LIMITED' } });
    expect(calls()).toHaveLength(3);
    const shown = await gqlOk(server, `query($id: ID!) { completion(id: $id) { ${resilienceFields} } }`, { token: key, variables: { id: final.id } });
    expect(shown.completion.error).toEqual({ code: 'UPSTREAM_RATE_LIMITED', retryAfter: 1 });
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
    await expectLedgerInvariant(server);
  });

  it('does not wait for a retry-after beyond the retry budget: FAILED at once with that retry-after', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 60 });
    const began = Date.now();
    const final = await runToEnd(server, key, {});
    expect(Date.now() - began).toBeLessThan(5000);
    expect(calls()).toHaveLength(1);
    const shown = await gqlOk(server, `query($id: ID!) { completion(id: $id) { ${resilienceFields} } }`, { token: key, variables: { id: final.id } });
    expect(shown.completion).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_RATE_LIMITED', retryAfter: 60 } });
  });

  it('passes on a retry-after of thousands of years as an hour, and the completion ends FAILED at once', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 99_999_999_999 });
    const final = await runToEnd(server, key, {});
    const shown = await gqlOk(server, `query($id: ID!) { completion(id: $id) { ${resilienceFields} } }`, { token: key, variables: { id: final.id } });
    expect(shown.completion).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_RATE_LIMITED', retryAfter: 3_600 } });
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
  });

  it('answers a REST caller 429 with the upstream retry-after, which the OpenAI SDK raises as RateLimitError', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 60 });
    const raw = await openaiClient(server, key)
      .withOptions({ maxRetries: 0 })
      .chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hello' }] })
      .catch((error: unknown) => error);
    expect(raw).toBeInstanceOf(RateLimitError);
    const error = raw as RateLimitError;
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.headers?.get('retry-after')).toBe('60');
    expect(error.message).toMatch(/nothing was charged/);
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
  });

  it("answers from the fallback model after the primary's retries fail, charged exactly at the fallback's prices", async () => {
    await gqlOk(server, `mutation { updateModel(input: { id: "claude-opus-4-5", fallbackModel: "claude-3-5-haiku-latest" }) { id } }`, { token: server.adminToken });
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    for (let i = 0; i < 3; i++) simulator.enqueue({ fault: 'http500' });
    simulator.enqueue({ words: 7 });
    const final = await runToEnd(server, key, { model: 'claude-opus-4-5' });
    expect(calls().map((r) => (r.body as { model: string }).model)).toEqual([
      'anthropic/claude-opus-4-5',
      'anthropic/claude-opus-4-5',
      'anthropic/claude-opus-4-5',
      'anthropic/claude-3-5-haiku-latest',
    ]);
    const shown = await gqlOk(server, `query($id: ID!) { completion(id: $id) { ${resilienceFields} } }`, { token: key, variables: { id: final.id } });
    const charge = chargeOf(final.usage, HAIKU_3_5);
    expect(shown.completion).toMatchObject({
      status: 'SUCCEEDED',
      model: { id: 'anthropic/claude-opus-4-5' },
      answeredModel: { id: 'anthropic/claude-3-5-haiku-latest' },
      cost: credits(charge),
    });
    expect(await ledgerOf(server, final.id)).toEqual([{ amount: `-${charge}`, kind: 'CHARGE' }]);
    expect(await account(server, key)).toEqual({ balance: credits(1_000_000_000n - charge), reserved: '0.00' });
    await expectLedgerInvariant(server);
  });

  const changesWhileWaiting: [string, string, string][] = [
    ['disabled', 'enabled: false', 'enabled: true'],
    ['repriced above the model it stands in for', 'inputPricePerMillion: "20"', 'inputPricePerMillion: "5"'],
  ];
  for (const [what, change, undo] of changesWhileWaiting) {
    it(`does not switch to a fallback that the admin ${what} while the completion waited to retry`, async () => {
      const admin = { token: server.adminToken };
      await gqlOk(server, `mutation { updateModel(input: { id: "claude-4-opus", fallbackModel: "claude-opus-4-7" }) { id } }`, admin);
      const { key } = await fundedCustomer(server, '1');
      const calls = upstreamCalls(simulator);
      simulator.enqueue({ fault: 'http429', retryAfterSeconds: 1 });
      simulator.enqueue({ fault: 'http500' });
      simulator.enqueue({ fault: 'http500' });
      const client = wsClient(server, key);
      try {
        const started = await startCompletion(server, key, { model: 'claude-4-opus', maxTokens: 100 });
        const events = collectFrom<{ completionStream: any }>(client, streamQuery, { id: started.id });
        while (calls().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        await gqlOk(server, `mutation { updateModel(input: { id: "claude-opus-4-7", ${change} }) { id } }`, admin);
        const { data } = await events;
        expect(data.at(-1)!.completionStream.completion).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_HTTP' } });
        expect(calls().map((r) => (r.body as { model: string }).model)).toEqual(Array(3).fill('anthropic/claude-4-opus'));
        expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
      } finally {
        await client.dispose();
        await gqlOk(server, `mutation { updateModel(input: { id: "claude-opus-4-7", ${undo} }) { id } }`, admin);
      }
    });
  }

  it('does not fall back to a model that the API key may not use', async () => {
    await gqlOk(server, `mutation { updateModel(input: { id: "claude-sonnet-4-6", fallbackModel: "claude-haiku-4-5" }) { id } }`, { token: server.adminToken });
    const { accountId } = await fundedCustomer(server, '1');
    const limited = await gqlOk(server, `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`, {
      token: server.adminToken,
      variables: { input: { accountId, name: 'sonnet only', limits: { allowedModels: ['claude-sonnet-4-6'] } } },
    });
    const calls = upstreamCalls(simulator);
    for (let i = 0; i < 3; i++) simulator.enqueue({ fault: 'http500' });
    const final = await runToEnd(server, limited.createApiKey.secret, { model: 'claude-sonnet-4-6' });
    expect(final).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_HTTP' } });
    expect(calls().map((r) => (r.body as { model: string }).model)).toEqual(Array(3).fill('anthropic/claude-sonnet-4-6'));
  });
});

describe('the circuit breaker', () => {
  let server: TestServer;
  let simulator: Simulator;
  beforeAll(async () => {
    // No retries, so that each completion is one failed call; two open a breaker for 1.5 s.
    ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_MAX_ATTEMPTS: '1', UPSTREAM_BREAKER_THRESHOLD: '2', UPSTREAM_BREAKER_COOLDOWN_MS: '1500' }));
  });
  afterAll(() => server.stop());

  async function openBreakerOf(model: string, key: string) {
    for (let i = 0; i < 2; i++) {
      simulator.enqueue({ fault: 'http500' });
      expect(await runToEnd(server, key, { model })).toMatchObject({ status: 'FAILED', error: { code: 'UPSTREAM_HTTP' } });
    }
  }

  const completionCount = async (accountId: string) =>
    (await server.pg.query(`select count(*)::int as n from completions where account_id = $1`, [accountId])).rows[0].n as number;

  it('refuses new starts UNAVAILABLE with retryAfter at once, reserving nothing and calling no upstream, once N calls failed', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    await openBreakerOf('claude-sonnet-4-5', key);
    const calls = upstreamCalls(simulator);
    const rows = await completionCount(accountId);
    const response = await gql(server, startMutation, { token: key, variables: { input: { model: 'claude-sonnet-4-5', messages: userMessage('Hello') } } });
    expect(codeOf(response)).toBe('UNAVAILABLE');
    expect(response.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
    expect(response.errors?.[0]?.message).toMatch(/claude-sonnet-4-5 is failing upstream/);
    expect(calls()).toHaveLength(0);
    expect(await completionCount(accountId)).toBe(rows);
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
    // Other models are not affected.
    simulator.enqueue({ words: 3 });
    expect(await runToEnd(server, key, {})).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('shows an open breaker on /metrics', async () => {
    const { key } = await fundedCustomer(server, '1');
    await openBreakerOf('claude-4-opus', key);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^tokenhub_upstream_breaker_open\{model="anthropic\/claude-4-opus"\} 1$/m);
  });

  it('answers REST callers 503 with retry-after while the breaker is open', async () => {
    const { key } = await fundedCustomer(server, '1');
    await openBreakerOf('claude-4-sonnet', key);
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-4-sonnet', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
  });

  it('answers Anthropic callers 529 overloaded_error with retry-after while the breaker is open', async () => {
    const { key } = await fundedCustomer(server, '1');
    await openBreakerOf('claude-3-5-sonnet-latest', key);
    const error = await anthropicClient(server, key)
      .messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverloadedError);
    expect((error as APIError).type).toBe('overloaded_error');
    expect(Number((error as APIError).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('lets one probe through after the cool-down, and closes when it succeeds', async () => {
    const { key } = await fundedCustomer(server, '1');
    await openBreakerOf('claude-opus-4-6', key);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ words: 3, ttftMs: 300 });
    const probe = await startCompletion(server, key, { model: 'claude-opus-4-6' });
    // While the probe runs, no other call is let through.
    const during = await gql(server, startMutation, { token: key, variables: { input: { model: 'claude-opus-4-6', messages: userMessage('Hello') } } });
    expect(codeOf(during)).toBe('UNAVAILABLE');
    await expect.poll(async () => (await gqlOk(server, `query($id: ID!) { completion(id: $id) { status } }`, { token: key, variables: { id: probe.id } })).completion.status).toBe('SUCCEEDED');
    simulator.enqueue({ words: 3 });
    expect(await runToEnd(server, key, { model: 'claude-opus-4-6' })).toMatchObject({ status: 'SUCCEEDED' });
    expect(calls()).toHaveLength(2);
  });

  it('sends new completions to the fallback model at once while the requested model is open', async () => {
    const { key } = await fundedCustomer(server, '1');
    await openBreakerOf('claude-opus-4-7', key);
    await gqlOk(server, `mutation { updateModel(input: { id: "claude-opus-4-7", fallbackModel: "claude-haiku-4-5" }) { id } }`, { token: server.adminToken });
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ words: 4 });
    const final = await runToEnd(server, key, { model: 'claude-opus-4-7' });
    expect(calls().map((r) => (r.body as { model: string }).model)).toEqual(['anthropic/claude-haiku-4-5']);
    const shown = await gqlOk(server, `query($id: ID!) { completion(id: $id) { ${resilienceFields} } }`, { token: key, variables: { id: final.id } });
    expect(shown.completion).toMatchObject({ status: 'SUCCEEDED', answeredModel: { id: 'anthropic/claude-haiku-4-5' }, cost: credits(chargeOf(final.usage, HAIKU)) });
    await expectLedgerInvariant(server);
  });
});

describe("retries and the completion's own time bound", () => {
  let server: TestServer;
  let simulator: Simulator;
  beforeAll(async () => {
    ({ server, simulator } = await startServerWithSimulator({ MAX_COMPLETION_DURATION_MS: '800' }));
  });
  afterAll(() => server.stop());

  it('ends a completion still waiting to retry when its time bound passes: FAILED UPSTREAM_TIMEOUT, nothing charged, no further call', async () => {
    const { key } = await fundedCustomer(server, '1');
    const calls = upstreamCalls(simulator);
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 2 });
    const began = Date.now();
    const final = await runToEnd(server, key, {});
    expect(Date.now() - began).toBeLessThan(2000);
    expect(final).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_TIMEOUT' } });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls()).toHaveLength(1);
    expect(await account(server, key)).toEqual({ balance: '1.00', reserved: '0.00' });
    await expectLedgerInvariant(server);
  });
});
