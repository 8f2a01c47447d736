import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { clearOfMinuteEnd } from '../helpers/clock.js';
import { createAccount, grant } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant, snapshotCounts } from '../helpers/invariants.js';
import { startMutation, startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { collectFrom } from '../helpers/subscriptions.js';
import type { TestServer } from '../helpers/server.js';
import { wsClient } from '../helpers/ws.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

const createKeyMutation = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id requestsPerMinute maxConcurrentStreams spendLimit spent allowedModels expiresAt activeStreams } }
}`;
const updateKeyMutation = `mutation($input: UpdateApiKeyInput!) {
  updateApiKey(input: $input) { id name requestsPerMinute maxConcurrentStreams spendLimit allowedModels expiresAt }
}`;

async function keyWith(limits: Record<string, unknown>, credits = '10') {
  if (limits.requestsPerMinute) await clearOfMinuteEnd();
  const accountId = await createAccount(server);
  await grant(server, accountId, credits);
  const data = await gqlOk(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: 'limited', limits } } });
  return { accountId, key: data.createApiKey.secret as string, apiKey: data.createApiKey.apiKey };
}

const input = { model: 'claude-haiku-4-5', messages: userMessage('limits'), maxTokens: 100 };
const start = (token: string, overrides: Record<string, unknown> = {}) =>
  gql(server, startMutation, { token, variables: { input: { ...input, ...overrides } } });

const refusalOf = (result: Awaited<ReturnType<typeof start>>) => result.errors?.[0]?.message;

async function finish(token: string, id: string) {
  const client = wsClient(server, token);
  await collectFrom(client, streamQuery, { id });
  await client.dispose();
}

describe('requests per minute', () => {
  it('count completions started and refuse the one past the limit with RATE_LIMITED and a retryAfter', async () => {
    const { key } = await keyWith({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect(codeOf(await start(key))).toBeUndefined();
    const refused = await start(key);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
  });

  it('count completions started over the OpenAI REST face too, answered 429 with retry-after', async () => {
    const { key } = await keyWith({ requestsPerMinute: 1 });
    const rest = () =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
      });
    expect((await rest()).status).toBe(200);
    expect(codeOf(await start(key))).toBe('RATE_LIMITED');
    const refused = await rest();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('count completions started with streamCompletion, past the limit ending the subscription with RATE_LIMITED', async () => {
    const { key } = await keyWith({ requestsPerMinute: 2 });
    const streamed = 'subscription($input: CompletionInput!) { streamCompletion(input: $input) { done } }';
    const client = wsClient(server, key);
    try {
      for (let i = 0; i < 2; i++) expect((await collectFrom(client, streamed, { input })).errors).toEqual([]);
      const refused = await collectFrom(client, streamed, { input });
      expect(refused.errors.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
      expect(refused.data).toEqual([]);
    } finally {
      await client.dispose();
    }
    expect(codeOf(await start(key))).toBe('RATE_LIMITED');
  });

  it('do not count starts that were refused, such as those past the key\'s concurrent streams', async () => {
    const { key } = await keyWith({ requestsPerMinute: 3, maxConcurrentStreams: 1 });
    // Running while the next three are refused.
    simulator.enqueue({ words: 5, ttftMs: 1500 });
    const first = await start(key);
    expect(codeOf(first)).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(codeOf(await start(key))).toBe('RATE_LIMITED');
    await finish(key, first.data!.startCompletion.id);
    // Three started in all within the minute: the refused ones took none of them.
    for (let i = 0; i < 2; i++) {
      const started = await start(key);
      expect(codeOf(started)).toBeUndefined();
      await finish(key, started.data!.startCompletion.id);
    }
    expect(refusalOf(await start(key))).toMatch(/completions per minute/);
  });

  it('do not count queries, which a limited key may run freely', async () => {
    const { key } = await keyWith({ requestsPerMinute: 1 });
    for (let i = 0; i < 5; i++) await gqlOk(server, '{ viewer { id } }', { token: key });
    expect(codeOf(await start(key))).toBeUndefined();
  });

  it('do not limit other keys', async () => {
    const limited = await keyWith({ requestsPerMinute: 1 });
    const free = await keyWith({});
    expect(codeOf(await start(limited.key))).toBeUndefined();
    expect(codeOf(await start(limited.key))).toBe('RATE_LIMITED');
    for (let i = 0; i < 5; i++) expect(codeOf(await start(free.key))).toBeUndefined();
  });
});

describe('concurrent streams', () => {
  it('past the limit are refused with RATE_LIMITED until one finishes', async () => {
    const { key } = await keyWith({ maxConcurrentStreams: 2 });
    simulator.setTiming({ ttftMs: 400 });
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => start(key)));
      const accepted = results.filter((r) => r.data?.startCompletion).map((r) => r.data!.startCompletion.id as string);
      expect(accepted).toHaveLength(2);
      expect(results.filter((r) => codeOf(r) === 'RATE_LIMITED')).toHaveLength(3);
      await Promise.all(accepted.map((id) => finish(key, id)));
    } finally {
      simulator.setTiming({ ttftMs: 0 });
    }
    expect((await start(key)).data?.startCompletion.status).toBe('PENDING');
    await expectLedgerInvariant(server);
  });
});

describe('a spend limit', () => {
  it('is reserved like credits, so concurrent starts cannot overrun it', async () => {
    const probe = await keyWith({});
    const { reserved } = (await start(probe.key)).data!.startCompletion;
    const limit = (Number(reserved) * 2).toFixed(9);
    const { key } = await keyWith({ spendLimit: limit });
    simulator.setTiming({ ttftMs: 400 });
    let accepted: string[];
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => start(key)));
      accepted = results.filter((r) => r.data?.startCompletion).map((r) => r.data!.startCompletion.id);
      expect(accepted).toHaveLength(2);
      const refused = results.filter((r) => codeOf(r) === 'SPEND_LIMIT_EXCEEDED');
      expect(refused).toHaveLength(6);
      expect(refused[0]?.errors?.[0]?.message).toMatch(/spend limit/);
    } finally {
      simulator.setTiming({ ttftMs: 0 });
    }
    await Promise.all(accepted.map((id) => finish(key, id)));
    const keys = (await gqlOk(server, '{ viewer { apiKeys { spent spendLimit activeStreams } ledger { edges { node { amount kind } } } } }', { token: key })).viewer;
    const charged = keys.ledger.edges.filter((e: any) => e.node.kind === 'CHARGE').reduce((sum: number, e: any) => sum - Number(e.node.amount), 0);
    expect(Number(keys.apiKeys[0].spent)).toBeCloseTo(charged, 9);
    expect(keys.apiKeys[0].activeStreams).toBe(0);
    await expectLedgerInvariant(server);
  });
});

describe('an allowed-model list', () => {
  it('refuses other models with FORBIDDEN and stores aliases as model ids', async () => {
    const { key, apiKey } = await keyWith({ allowedModels: ['claude-haiku-4-5'] });
    expect(apiKey.allowedModels).toEqual(['anthropic/claude-haiku-4-5']);
    const before = await snapshotCounts(server);
    const refused = await start(key, { model: 'claude-sonnet-4-6' });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(await snapshotCounts(server)).toEqual(before);
    expect((await start(key)).data?.startCompletion.status).toBe('PENDING');
  });
});

describe('an expiry', () => {
  it('makes the key UNAUTHENTICATED once it has passed', async () => {
    const { key } = await keyWith({ expiresAt: new Date(Date.now() + 3000).toISOString() });
    await gqlOk(server, '{ viewer { id } }', { token: key });
    await expect.poll(async () => codeOf(await gql(server, '{ viewer { id } }', { token: key })), { timeout: 6000, interval: 250 }).toBe('UNAUTHENTICATED');
    const response = await gql(server, '{ viewer { id } }', { token: key });
    expect(response.errors?.[0]?.message).toMatch(/expired/);
  });
});

describe('updateApiKey', () => {
  it('lets the admin change and clear limits', async () => {
    const { apiKey } = await keyWith({ requestsPerMinute: 5, maxConcurrentStreams: 1 });
    const data = await gqlOk(server, updateKeyMutation, {
      token: server.adminToken,
      variables: { input: { id: apiKey.id, name: 'renamed', limits: { requestsPerMinute: null, spendLimit: '1.5' } } },
    });
    expect(data.updateApiKey).toMatchObject({ name: 'renamed', requestsPerMinute: null, maxConcurrentStreams: 1, spendLimit: '1.50' });
  });

  it('is refused to a key, even for itself, with FORBIDDEN', async () => {
    const { key, apiKey } = await keyWith({ requestsPerMinute: 5 });
    const response = await gql(server, updateKeyMutation, { token: key, variables: { input: { id: apiKey.id, limits: { requestsPerMinute: null } } } });
    expect(codeOf(response)).toBe('FORBIDDEN');
  });

  const badLimits: [string, Record<string, unknown>][] = [
    ['a zero rate', { requestsPerMinute: 0 }],
    ['a negative stream limit', { maxConcurrentStreams: -1 }],
    ['a zero spend limit', { spendLimit: '0' }],
    ['an over-precise spend limit', { spendLimit: '0.0000000001' }],
    ['an empty model list', { allowedModels: [] }],
    ['an unknown model', { allowedModels: ['gpt-4o'] }],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }],
    ['an expiry that is not a date', { expiresAt: 'tomorrow' }],
  ];
  for (const [what, limits] of badLimits) {
    it(`refuses ${what} with BAD_USER_INPUT and changes nothing`, async () => {
      const { apiKey } = await keyWith({});
      const before = await snapshotCounts(server);
      const { rows: keyBefore } = await server.pg.query('select row_to_json(k)::text as row from api_keys k where id = $1', [apiKey.id]);
      const response = await gql(server, updateKeyMutation, { token: server.adminToken, variables: { input: { id: apiKey.id, limits } } });
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(await snapshotCounts(server)).toEqual(before);
      const { rows: keyAfter } = await server.pg.query('select row_to_json(k)::text as row from api_keys k where id = $1', [apiKey.id]);
      expect(keyAfter).toEqual(keyBefore);
    });
  }

  it('refuses bad limits at creation too, creating no key', async () => {
    const accountId = await createAccount(server);
    const before = await snapshotCounts(server);
    const response = await gql(server, createKeyMutation, {
      token: server.adminToken,
      variables: { input: { accountId, name: 'bad', limits: { requestsPerMinute: 0 } } },
    });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(await snapshotCounts(server)).toEqual(before);
  });
});

describe('a key with limits', () => {
  it('cannot create keys, which would escape its limits', async () => {
    const { key } = await keyWith({ spendLimit: '0.01' });
    const before = await snapshotCounts(server);
    const response = await gql(server, createKeyMutation, { token: key, variables: { input: { name: 'escape' } } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('may revoke itself but no other key of its account', async () => {
    const { key, accountId, apiKey } = await keyWith({ maxConcurrentStreams: 1 });
    const other = (await gqlOk(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: 'other' } } })).createApiKey;
    const revoke = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
    expect(codeOf(await gql(server, revoke, { token: key, variables: { id: other.apiKey.id } }))).toBe('FORBIDDEN');
    await gqlOk(server, '{ viewer { id } }', { token: other.secret });
    const self = await gqlOk(server, revoke, { token: key, variables: { id: apiKey.id } });
    expect(self.revokeApiKey.revokedAt).not.toBeNull();
  });
});
