import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { startCompletion, startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { createAccount, fundedCustomer, grant } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import type { TestServer } from '../helpers/server.js';
import { collectSse, collectFrom, type StreamResult } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

// A revoked or expired key stops everything it holds open, over graphql-ws,
// SSE and REST: each stream ends with UNAUTHENTICATED within seconds.

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator({ KEY_CHECK_INTERVAL_MS: '200', UPSTREAM_IDLE_TIMEOUT_MS: '5000' }));
});
afterAll(() => server.stop());

const balanceQuery = 'subscription { balance { balance } }';
const streamCompletionQuery = `subscription($input: CompletionInput!) { streamCompletion(input: $input) { index done } }`;
const slowAnswer = () => simulator.enqueue({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), interTokenMs: 25 });

async function revoke(keyId: string): Promise<void> {
  await gqlOk(server, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { token: server.adminToken, variables: { id: keyId } });
}

/** Waits for `first` items of a subscription, revokes the key, and returns how the subscription ended. */
async function revokedWhileOpen(keyId: string, collect: (onItem: () => void) => Promise<StreamResult>): Promise<StreamResult> {
  let seen = 0;
  let revoked: Promise<void> | undefined;
  const result = await collect(() => {
    if (++seen === 1) revoked = revoke(keyId);
  });
  await revoked;
  return result;
}

function expectEndedUnauthenticated(result: StreamResult): void {
  expect(result.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
}

describe('revoking a key', () => {
  it('ends its completionStream over graphql-ws with UNAUTHENTICATED, then completes', async () => {
    const { key, keyId } = await fundedCustomer(server);
    slowAnswer();
    const { id } = await startCompletion(server, key, { maxTokens: 1000 });
    const client = wsClient(server, key);
    const result = await revokedWhileOpen(keyId, (onItem) => collectFrom(client, streamQuery, { id }, onItem));
    await client.dispose();
    expectEndedUnauthenticated(result);
    expect(result.data.every((d: any) => !d.completionStream.done)).toBe(true);
  });

  it('ends its streamCompletion over graphql-ws, and the completion runs on to be charged', async () => {
    const { key, keyId, accountId } = await fundedCustomer(server);
    simulator.enqueue({ tokens: Array.from({ length: 40 }, (_, i) => `t${i} `), interTokenMs: 25 });
    const client = wsClient(server, key);
    const input = { model: 'claude-haiku-4-5', messages: userMessage('stream'), maxTokens: 1000 };
    expectEndedUnauthenticated(await revokedWhileOpen(keyId, (onItem) => collectFrom(client, streamCompletionQuery, { input }, onItem)));
    await client.dispose();
    await expect.poll(async () => (await server.pg.query('select status from completions where account_id = $1', [accountId])).rows[0]?.status, { timeout: 10_000 }).toBe('SUCCEEDED');
    await expectLedgerInvariant(server);
  });

  it('ends its balance subscription over graphql-ws', async () => {
    const { key, keyId } = await fundedCustomer(server);
    const client = wsClient(server, key);
    expectEndedUnauthenticated(await revokedWhileOpen(keyId, (onItem) => collectFrom(client, balanceQuery, {}, onItem)));
    await client.dispose();
  });

  it('ends its balance subscription and its completionStream over SSE', async () => {
    const { key, keyId } = await fundedCustomer(server);
    slowAnswer();
    const { id } = await startCompletion(server, key, { maxTokens: 1000 });
    const balance = collectSse(server, key, balanceQuery, {});
    const events = collectSse(server, key, streamQuery, { id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await revoke(keyId);
    expectEndedUnauthenticated(await balance);
    expectEndedUnauthenticated(await events);
  });

  it('ends its REST stream with an error event and cancels the completion', async () => {
    const { key, keyId, accountId } = await fundedCustomer(server);
    slowAnswer();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'rest' }], max_tokens: 1000, stream: true }),
    });
    const reader = response.body!.getReader();
    await reader.read();
    await revoke(keyId);
    let text = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += new TextDecoder().decode(read.value);
    expect(text).toMatch(/"code":"invalid_api_key"/);
    expect(text).not.toMatch(/\[DONE\]/);
    await expect.poll(async () => (await server.pg.query('select status from completions where account_id = $1', [accountId])).rows[0]?.status).toBe('CANCELLED');
  });
});

describe('a key that expires', () => {
  it('ends its subscriptions with UNAUTHENTICATED within seconds of its expiry', async () => {
    const accountId = await createAccount(server);
    await grant(server, accountId, '1');
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const data = await gqlOk(server, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
      token: server.adminToken,
      variables: { input: { accountId, name: 'short-lived', limits: { expiresAt } } },
    });
    const client = wsClient(server, data.createApiKey.secret);
    const result = await collectFrom(client, balanceQuery, {});
    await client.dispose();
    expectEndedUnauthenticated(result);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
  });
});
