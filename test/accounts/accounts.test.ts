import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { snapshotCounts } from '../helpers/invariants.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const createAccountMutation = 'mutation($name: String!) { createAccount(input: { name: $name }) { id name balance reserved available } }';

describe('createAccount', () => {
  it('opens an account with a zero balance', async () => {
    const data = await gqlOk(server, createAccountMutation, { token: server.adminToken, variables: { name: '  Acme Ltd ' } });
    expect(data.createAccount).toMatchObject({ name: 'Acme Ltd', balance: '0.00', reserved: '0.00', available: '0.00' });
  });

  for (const [what, name] of [['an empty name', ''], ['a blank name', '   '], ['a name of 201 characters', 'x'.repeat(201)]]) {
    it(`refuses ${what} with BAD_USER_INPUT and changes nothing`, async () => {
      const before = await snapshotCounts(server);
      const response = await gql(server, createAccountMutation, { token: server.adminToken, variables: { name } });
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(await snapshotCounts(server)).toEqual(before);
    });
  }

  it('refuses a missing name with a validation error and changes nothing', async () => {
    const before = await snapshotCounts(server);
    const response = await gql(server, 'mutation { createAccount(input: {}) { id } }', { token: server.adminToken });
    expect(response.errors?.[0]?.message).toMatch(/name/);
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('is refused to an API key with FORBIDDEN', async () => {
    const { key } = await fundedCustomer(server);
    const before = await snapshotCounts(server);
    const response = await gql(server, createAccountMutation, { token: key, variables: { name: 'sneaky' } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('is refused without a token with UNAUTHENTICATED', async () => {
    const response = await gql(server, createAccountMutation, { variables: { name: 'anon' } });
    expect(codeOf(response)).toBe('UNAUTHENTICATED');
  });
});

describe('viewer', () => {
  it("is the key's own account", async () => {
    const { key, accountId } = await fundedCustomer(server, '5');
    const data = await gqlOk(server, '{ viewer { id balance } }', { token: key });
    expect(data.viewer).toEqual({ id: accountId, balance: '5.00' });
  });

  it('is null for the admin', async () => {
    const data = await gqlOk(server, '{ viewer { id } }', { token: server.adminToken });
    expect(data.viewer).toBeNull();
  });

  it('needs a token', async () => {
    expect(codeOf(await gql(server, '{ viewer { id } }'))).toBe('UNAUTHENTICATED');
  });
});

describe('account', () => {
  it('shows a key its own account', async () => {
    const { key, accountId } = await fundedCustomer(server);
    const data = await gqlOk(server, 'query($id: ID!) { account(id: $id) { id } }', { token: key, variables: { id: accountId } });
    expect(data.account.id).toBe(accountId);
  });

  it("refuses a key another account's id with FORBIDDEN", async () => {
    const { key } = await fundedCustomer(server);
    const other = await createAccount(server);
    const response = await gql(server, 'query($id: ID!) { account(id: $id) { id balance } }', { token: key, variables: { id: other } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(response.data?.account ?? null).toBeNull();
  });

  it('shows the admin any account and null for an unknown one', async () => {
    const id = await createAccount(server);
    const query = 'query($id: ID!) { account(id: $id) { id } }';
    expect((await gqlOk(server, query, { token: server.adminToken, variables: { id } })).account.id).toBe(id);
    const unknown = await gqlOk(server, query, { token: server.adminToken, variables: { id: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.account).toBeNull();
  });

  it('refuses a malformed id with BAD_USER_INPUT', async () => {
    const response = await gql(server, '{ account(id: "42") { id } }', { token: server.adminToken });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });
});

describe('accounts', () => {
  const page = `query($first: Int, $after: String) {
    accounts(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } }
  }`;

  it('pages through every account, oldest first, each exactly once', async () => {
    for (let i = 0; i < 5; i++) await createAccount(server);
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const { accounts }: any = await gqlOk(server, page, { token: server.adminToken, variables: { first: 2, after } });
      total = accounts.totalCount;
      seen.push(...accounts.edges.map((e: any) => e.node.id));
      if (!accounts.pageInfo.hasNextPage) break;
      after = accounts.pageInfo.endCursor;
    }
    const { rows } = await server.pg.query('select id from accounts order by created_at, id');
    expect(seen).toEqual(rows.map((r) => r.id));
    expect(total).toBe(rows.length);
  });

  it('is refused to an API key with FORBIDDEN', async () => {
    const { key } = await fundedCustomer(server);
    expect(codeOf(await gql(server, page, { token: key }))).toBe('FORBIDDEN');
  });

  it('refuses a negative page size with BAD_USER_INPUT', async () => {
    const response = await gql(server, page, { token: server.adminToken, variables: { first: -1 } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });

  it('refuses a cursor that is not an account id with BAD_USER_INPUT', async () => {
    const response = await gql(server, page, { token: server.adminToken, variables: { after: 'garbage' } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });
});
