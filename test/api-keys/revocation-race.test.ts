import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServerWithSimulator } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gql, gqlOk } from '../helpers/graphql.js';
import type { TestServer } from '../helpers/server.js';

// A slow key lookup, as under a loaded database: the lookup of a key's row
// has read it from Postgres (live) but its answer reaches the gateway only
// after the admin revoked the key on the same instance. The gate below holds
// those answers back; the statement itself runs on the real database.
const gate: { held?: Promise<void> } = {};
vi.mock('../../src/domain/api-keys/api-key-record.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/domain/api-keys/api-key-record.js')>();
  return {
    ...original,
    findApiKeyByHash: async (...args: Parameters<typeof original.findApiKeyByHash>) => {
      const key = await original.findApiKeyByHash(...args);
      if (gate.held) await gate.held;
      return key;
    },
  };
});

let server: TestServer;

beforeAll(async () => {
  // The default interval (2 s) is the window; a longer one makes it plain.
  ({ server } = await startServerWithSimulator({ KEY_CHECK_INTERVAL_MS: '30000', MAX_STREAMS_PER_KEY: '5' }));
});
afterAll(() => server?.stop());

const revoke = (keyId: string) => gqlOk(server, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { token: server.adminToken, variables: { id: keyId } });

describe('a key revoked while a lookup of it is in flight on the same instance', () => {
  it('is refused at once after the revocation answered: the stale lookup is not remembered', async () => {
    const { key, keyId } = await fundedCustomer(server);
    let open!: () => void;
    gate.held = new Promise((resolve) => (open = resolve));
    const inFlight = gql(server, '{ viewer { __typename } }', { token: key });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await revoke(keyId);
    gate.held = undefined;
    open();
    await inFlight;
    // After revokeApiKey has answered, the key must be refused on this instance.
    const started = await gql(server, 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }', {
      token: key,
      variables: { input: { model: 'claude-haiku-4-5', maxTokens: 5, messages: [{ role: 'user', content: 'hi' }] } },
    });
    expect(started.errors?.[0]?.extensions?.code, JSON.stringify(started)).toBe('UNAUTHENTICATED');
    const after = await gql(server, '{ viewer { __typename } }', { token: key });
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('holds no single-connection stream that its PUT reserved while it authenticated', async () => {
    const { key, keyId } = await fundedCustomer(server);
    const authorization = `Bearer ${key}`;
    let open!: () => void;
    gate.held = new Promise((resolve) => (open = resolve));
    const put = fetch(server.graphqlUrl, { method: 'PUT', headers: { authorization } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await revoke(keyId);
    gate.held = undefined;
    open();
    const answer = await put;
    const token = await answer.text();
    // Either the PUT is refused, or the token it answered is dropped with the revocation.
    if (answer.status === 201) {
      const controller = new AbortController();
      const stream = await fetch(server.graphqlUrl, { headers: { authorization, accept: 'text/event-stream', 'x-graphql-event-stream-token': token }, signal: controller.signal });
      controller.abort();
      expect(stream.status).toBe(404);
    } else {
      expect(answer.status).toBe(401);
    }
  });
});
