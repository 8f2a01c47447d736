import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, createKey, fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { snapshotCounts } from '../helpers/invariants.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { wsClient, wsRequest } from '../helpers/ws.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const createKeyMutation = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id name prefix createdAt lastUsedAt revokedAt } }
}`;
const revokeMutation = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';

describe('createApiKey', () => {
  it('returns a th- key once, with a display prefix of it', async () => {
    const accountId = await createAccount(server);
    const data = await gqlOk(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: 'ci' } } });
    const { secret, apiKey } = data.createApiKey;
    expect(secret).toMatch(/^th-[0-9A-Za-z]{38}$/);
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    expect(apiKey.prefix.length).toBeLessThan(secret.length / 2);
    expect(apiKey).toMatchObject({ name: 'ci', lastUsedAt: null, revokedAt: null });
  });

  it('stores only a hash of the key, never the key itself', async () => {
    const accountId = await createAccount(server);
    const { secret } = await createKey(server, accountId);
    const { rows } = await server.pg.query('select row_to_json(k)::text as row from api_keys k where account_id = $1', [accountId]);
    expect(rows[0].row).not.toContain(secret.slice(11));
  });

  it('lets a key create another key for its own account', async () => {
    const { key, accountId } = await fundedCustomer(server);
    const data = await gqlOk(server, createKeyMutation, { token: key, variables: { input: { name: 'second' } } });
    const viewer = await gqlOk(server, '{ viewer { id } }', { token: data.createApiKey.secret });
    expect(viewer.viewer.id).toBe(accountId);
  });

  it("refuses a key that names another account with FORBIDDEN and creates nothing", async () => {
    const { key } = await fundedCustomer(server);
    const other = await createAccount(server);
    const before = await snapshotCounts(server);
    const response = await gql(server, createKeyMutation, { token: key, variables: { input: { accountId: other, name: 'x' } } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('refuses the admin without an accountId with BAD_USER_INPUT', async () => {
    const before = await snapshotCounts(server);
    const response = await gql(server, createKeyMutation, { token: server.adminToken, variables: { input: { name: 'x' } } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('refuses an empty name with BAD_USER_INPUT and creates nothing', async () => {
    const accountId = await createAccount(server);
    const before = await snapshotCounts(server);
    const response = await gql(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: ' ' } } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('refuses an unknown account with NOT_FOUND', async () => {
    const response = await gql(server, createKeyMutation, {
      token: server.adminToken,
      variables: { input: { accountId: '00000000-0000-4000-8000-000000000000', name: 'x' } },
    });
    expect(codeOf(response)).toBe('NOT_FOUND');
  });

  it('never shows the secret again: not in later responses, not in the logs', async () => {
    const accountId = await createAccount(server);
    const { secret } = await createKey(server, accountId);
    await gqlOk(server, '{ viewer { apiKeys { id name prefix } ledger { totalCount } } }', { token: secret });
    const later = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ query: 'query($id: ID!) { account(id: $id) { apiKeys { id name prefix createdAt } } }', variables: { id: accountId } }),
    });
    expect(await later.text()).not.toContain(secret.slice(11));
    await gql(server, '{ viewer { id } }', { token: `${secret.slice(0, -1)}x` });
    const logs = server.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(secret.slice(11));
    expect(logs).not.toContain(server.adminToken);
  });
});

describe('authentication by key', () => {
  it('refuses a key with a wrong checksum with UNAUTHENTICATED before any database lookup', async () => {
    const { key } = await fundedCustomer(server);
    const typo = `${key.slice(0, 10)}${key[10] === 'a' ? 'b' : 'a'}${key.slice(11)}`;
    const statementsBefore = server.statements.length;
    const response = await gql(server, '{ models { id } }', { token: typo });
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
    expect(response.errors?.[0]?.message).toMatch(/malformed/);
    expect(server.statements.slice(statementsBefore).filter((s) => s.includes('api_keys'))).toEqual([]);
  });

  it('refuses a well-formed key that was never issued with UNAUTHENTICATED', async () => {
    const { key } = await fundedCustomer(server);
    const other = await (async () => {
      const accountId = await createAccount(server);
      const created = await createKey(server, accountId);
      await server.pg.query('delete from api_keys where id = $1', [created.apiKey.id]);
      return created.secret;
    })();
    expect(key).not.toBe(other);
    expect(codeOf(await gql(server, '{ viewer { id } }', { token: other }))).toBe('UNAUTHENTICATED');
  });

  it('refuses a header that is not a bearer token with UNAUTHENTICATED', async () => {
    const response = await gql(server, '{ models { id } }', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
    expect(response.status).toBe(401);
  });

  it('records when a key was last used', async () => {
    const { key, keyId } = await fundedCustomer(server);
    await gqlOk(server, '{ viewer { id } }', { token: key });
    await expect.poll(async () => (await server.pg.query('select last_used_at from api_keys where id = $1', [keyId])).rows[0].last_used_at).not.toBeNull();
  });

  it('works over graphql-ws with the token in connectionParams', async () => {
    const { key, accountId } = await fundedCustomer(server);
    const client = wsClient(server, key);
    try {
      const result = await wsRequest(client, '{ viewer { id } }');
      expect(result.data?.viewer.id).toBe(accountId);
    } finally {
      await client.dispose();
    }
  });

  it('also reads the token from connectionParams written like HTTP headers', async () => {
    const { key, accountId } = await fundedCustomer(server);
    for (const params of [{ Authorization: `Bearer ${key}` }, { headers: { Authorization: `Bearer ${key}` } }]) {
      const client = wsClient(server, null, params);
      try {
        const result = await wsRequest(client, '{ viewer { id } }');
        expect(result.data?.viewer.id).toBe(accountId);
      } finally {
        await client.dispose();
      }
    }
  });

  it('treats an empty authorization in connectionParams as no token', async () => {
    const client = wsClient(server, null, { authorization: '' });
    try {
      const result = await wsRequest(client, '{ viewer { id } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const models = await wsRequest(client, '{ models { id } }');
      expect(models.data?.models).toHaveLength(10);
    } finally {
      await client.dispose();
    }
  });

  it('sends no HTTP status extension with a refusal over graphql-ws', async () => {
    const client = wsClient(server, 'th-not-a-real-key');
    try {
      const result = await wsRequest(client, '{ models { id } }');
      expect(result.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    } finally {
      await client.dispose();
    }
  });

  it('refuses an unknown key over graphql-ws with UNAUTHENTICATED', async () => {
    const client = wsClient(server, 'th-not-a-real-key');
    try {
      const result = await wsRequest(client, '{ models { id } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await client.dispose();
    }
  });
});

describe('revokeApiKey', () => {
  it('stops the key from working at once', async () => {
    const { key, keyId } = await fundedCustomer(server);
    const data = await gqlOk(server, revokeMutation, { token: server.adminToken, variables: { id: keyId } });
    expect(data.revokeApiKey.revokedAt).not.toBeNull();
    const response = await gql(server, '{ viewer { id } }', { token: key });
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
    expect(response.errors?.[0]?.message).toMatch(/revoked/);
  });

  it('lets a key revoke itself', async () => {
    const { key, keyId } = await fundedCustomer(server);
    await gqlOk(server, revokeMutation, { token: key, variables: { id: keyId } });
    expect(codeOf(await gql(server, '{ viewer { id } }', { token: key }))).toBe('UNAUTHENTICATED');
  });

  it('keeps the first revocation time when revoked twice', async () => {
    const { keyId } = await fundedCustomer(server);
    const first = await gqlOk(server, revokeMutation, { token: server.adminToken, variables: { id: keyId } });
    const second = await gqlOk(server, revokeMutation, { token: server.adminToken, variables: { id: keyId } });
    expect(second.revokeApiKey.revokedAt).toBe(first.revokeApiKey.revokedAt);
  });

  it("refuses a key revoking another account's key with FORBIDDEN and changes nothing", async () => {
    const { key } = await fundedCustomer(server);
    const victim = await fundedCustomer(server);
    const before = await snapshotCounts(server);
    const response = await gql(server, revokeMutation, { token: key, variables: { id: victim.keyId } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await snapshotCounts(server)).toEqual(before);
    await gqlOk(server, '{ viewer { id } }', { token: victim.key });
  });

  it('refuses an unknown id with NOT_FOUND and a malformed one with BAD_USER_INPUT', async () => {
    const unknown = await gql(server, revokeMutation, { token: server.adminToken, variables: { id: '00000000-0000-4000-8000-000000000000' } });
    expect(codeOf(unknown)).toBe('NOT_FOUND');
    const malformed = await gql(server, revokeMutation, { token: server.adminToken, variables: { id: 'key-1' } });
    expect(codeOf(malformed)).toBe('BAD_USER_INPUT');
  });
});
