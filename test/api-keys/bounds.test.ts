import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { Authenticator } from '../../src/domain/access/authenticator.js';
import { ApiKeyHasher, loadPepper } from '../../src/domain/api-keys/key-hasher.js';
import { createAccount, createKey } from '../helpers/fixtures.js';
import { codeOf, gql } from '../helpers/graphql.js';
import { startServer, type TestServer } from '../helpers/server.js';

// What one account's keys may cost the server is bounded: how many it holds,
// and how much of each instance's memory they take.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_KEYS_PER_ACCOUNT: '3' });
});
afterAll(() => server.stop());

const createKeyMutation = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }';

describe('an account', () => {
  it('holds at most MAX_KEYS_PER_ACCOUNT live keys: the next one is FORBIDDEN until one is revoked', async () => {
    const accountId = await createAccount(server);
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await createKey(server, accountId));
    const refused = await gql(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: 'fourth' } } });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors?.[0]?.message).toMatch(/3 live API keys/);
    await gql(server, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { token: server.adminToken, variables: { id: keys[0]!.apiKey.id } });
    expect(codeOf(await gql(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: 'again' } } }))).toBeUndefined();
  });

  it('cannot exceed the bound with racing creations', async () => {
    const accountId = await createAccount(server);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => gql(server, createKeyMutation, { token: server.adminToken, variables: { input: { accountId, name: `race ${i}` } } })),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(3);
    const { rows } = await server.pg.query('select count(*)::int as n from api_keys where account_id = $1', [accountId]);
    expect(rows[0].n).toBe(3);
  });
});

describe('authentication', () => {
  it('remembers a bounded number of keys, however many are used', async () => {
    const database = await openDatabase({ kind: 'postgres', url: server.databaseUrl });
    try {
      const hasher = new ApiKeyHasher(await loadPepper(database.db, undefined));
      const authenticator = new Authenticator(database.db, hasher, 'another-admin-token-0123456789', 60_000, () => undefined, 5);
      const secrets: string[] = [];
      for (let i = 0; i < 4; i++) {
        const accountId = await createAccount(server);
        for (let k = 0; k < 3; k++) secrets.push((await createKey(server, accountId)).secret);
      }
      for (const secret of secrets) expect((await authenticator.authenticateToken(secret)).kind).toBe('apiKey');
      expect(authenticator.trackedKeys).toBeLessThanOrEqual(5);
    } finally {
      await database.close();
    }
  });
});
