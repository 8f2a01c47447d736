import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, grant } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { startServer, type TestServer } from '../helpers/server.js';

// A cursor belongs to the list it was taken from: given to another list, it
// is refused rather than positioning that list by a foreign row.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const ledgerPage = `query($id: ID!, $after: String) { account(id: $id) {
  ledger(first: 1, after: $after) { pageInfo { endCursor } edges { node { amount } } } } }`;
const completionsPage = `query($id: ID!, $after: String) { account(id: $id) {
  completions(first: 1, after: $after) { pageInfo { endCursor } edges { node { id } } } } }`;

async function accountWithGrants(): Promise<string> {
  const id = await createAccount(server);
  for (const amount of ['1', '2', '3']) await grant(server, id, amount);
  return id;
}

describe('a pagination cursor', () => {
  it("of one account's ledger pages that ledger", async () => {
    const a = await accountWithGrants();
    const first = await gqlOk(server, ledgerPage, { token: server.adminToken, variables: { id: a } });
    const next = await gqlOk(server, ledgerPage, { token: server.adminToken, variables: { id: a, after: first.account.ledger.pageInfo.endCursor } });
    expect(next.account.ledger.edges.map((e: any) => e.node.amount)).toEqual(['2.00']);
  });

  it("of one account's ledger is BAD_USER_INPUT on another account's ledger", async () => {
    const a = await accountWithGrants();
    const b = await accountWithGrants();
    const first = await gqlOk(server, ledgerPage, { token: server.adminToken, variables: { id: a } });
    const misused = await gql(server, ledgerPage, { token: server.adminToken, variables: { id: b, after: first.account.ledger.pageInfo.endCursor } });
    expect(codeOf(misused)).toBe('BAD_USER_INPUT');
    expect(misused.errors?.[0]?.extensions?.field).toBe('after');
  });

  it('of a ledger is BAD_USER_INPUT on a list of completions or of accounts', async () => {
    const a = await accountWithGrants();
    const cursor = (await gqlOk(server, ledgerPage, { token: server.adminToken, variables: { id: a } })).account.ledger.pageInfo.endCursor;
    expect(codeOf(await gql(server, completionsPage, { token: server.adminToken, variables: { id: a, after: cursor } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(server, 'query($after: String) { accounts(first: 1, after: $after) { totalCount } }', { token: server.adminToken, variables: { after: cursor } }))).toBe('BAD_USER_INPUT');
  });

  it('made up from a row id is BAD_USER_INPUT', async () => {
    const a = await accountWithGrants();
    expect(codeOf(await gql(server, ledgerPage, { token: server.adminToken, variables: { id: a, after: '1' } }))).toBe('BAD_USER_INPUT');
  });
});
