import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, fundedCustomer, grant } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant, snapshotCounts } from '../helpers/invariants.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const grantMutation = `mutation($input: GrantCreditsInput!) {
  grantCredits(input: $input) { id amount balanceAfter kind note createdAt }
}`;

const balanceOf = async (accountId: string) =>
  (await gqlOk(server, 'query($id: ID!) { account(id: $id) { balance } }', { token: server.adminToken, variables: { id: accountId } }))
    .account.balance as string;

describe('grantCredits', () => {
  it('adds credits and records a GRANT entry with the balance after it', async () => {
    const accountId = await createAccount(server);
    const data = await gqlOk(server, grantMutation, {
      token: server.adminToken,
      variables: { input: { accountId, amount: '12.5', note: 'welcome' } },
    });
    expect(data.grantCredits).toMatchObject({ amount: '12.50', balanceAfter: '12.50', kind: 'GRANT', note: 'welcome' });
    expect(await balanceOf(accountId)).toBe('12.50');
    await expectLedgerInvariant(server);
  });

  it('adds decimal amounts exactly, with no float rounding', async () => {
    const accountId = await createAccount(server);
    await grant(server, accountId, '0.1');
    await grant(server, accountId, '0.2');
    await grant(server, accountId, '0.000000001');
    expect(await balanceOf(accountId)).toBe('0.300000001');
    await expectLedgerInvariant(server);
  });

  it('accepts Money as an integer literal and as a JSON number', async () => {
    const accountId = await createAccount(server);
    await gqlOk(server, `mutation { grantCredits(input: { accountId: "${accountId}", amount: 3 }) { id } }`, { token: server.adminToken });
    await gqlOk(server, grantMutation, { token: server.adminToken, variables: { input: { accountId, amount: 0.25 } } });
    expect(await balanceOf(accountId)).toBe('3.25');
    await expectLedgerInvariant(server);
  });

  it('grants once when the same idempotency key is used twice', async () => {
    const accountId = await createAccount(server);
    const first = await grant(server, accountId, '7', 'invoice-1');
    const second = await grant(server, accountId, '7', 'invoice-1');
    expect(second.id).toBe(first.id);
    expect(await balanceOf(accountId)).toBe('7.00');
    await expectLedgerInvariant(server);
  });

  it('grants once when twenty calls with one idempotency key race', async () => {
    const accountId = await createAccount(server);
    const results = await Promise.all(Array.from({ length: 20 }, () => grant(server, accountId, '1.5', 'race-key')));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await balanceOf(accountId)).toBe('1.50');
    const { rows } = await server.pg.query('select count(*)::int as n from ledger_entries where account_id = $1', [accountId]);
    expect(rows[0].n).toBe(1);
    await expectLedgerInvariant(server);
  });

  it('keeps every grant when grants with different keys race', async () => {
    const accountId = await createAccount(server);
    await Promise.all(Array.from({ length: 20 }, (_, i) => grant(server, accountId, '0.05', `k${i}`)));
    expect(await balanceOf(accountId)).toBe('1.00');
    await expectLedgerInvariant(server);
  });

  it('refuses an idempotency key reused for another amount with BAD_USER_INPUT', async () => {
    const accountId = await createAccount(server);
    await grant(server, accountId, '2', 'reused');
    const before = await snapshotCounts(server);
    const response = await gql(server, grantMutation, {
      token: server.adminToken,
      variables: { input: { accountId, amount: '3', idempotencyKey: 'reused' } },
    });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  const badAmounts: [string, unknown][] = [
    ['a negative amount', '-5'],
    ['a zero amount', '0'],
    ['a malformed amount', 'ten'],
    ['an amount with ten decimals', '1.0000000001'],
    ['an amount in exponent form', '1e2'],
    ['an empty amount', ''],
    ['an absurdly large amount', '100000000000'],
    ['a boolean amount', true],
    ['a null amount', null],
    ['an amount given as an object', { value: 1 }],
  ];
  for (const [what, amount] of badAmounts) {
    it(`refuses ${what} with BAD_USER_INPUT and changes nothing`, async () => {
      const accountId = await createAccount(server);
      const before = await snapshotCounts(server);
      const response = await gql(server, grantMutation, { token: server.adminToken, variables: { input: { accountId, amount } } });
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toMatch(/amount|Money/);
      expect(await snapshotCounts(server)).toEqual(before);
    });
  }

  it('refuses an unknown account with NOT_FOUND and changes nothing', async () => {
    const before = await snapshotCounts(server);
    const response = await gql(server, grantMutation, {
      token: server.adminToken,
      variables: { input: { accountId: '00000000-0000-4000-8000-000000000000', amount: '1' } },
    });
    expect(codeOf(response)).toBe('NOT_FOUND');
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('refuses a malformed account id with BAD_USER_INPUT', async () => {
    const response = await gql(server, grantMutation, { token: server.adminToken, variables: { input: { accountId: 'acme', amount: '1' } } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });

  it('is refused to an API key, even for its own account, with FORBIDDEN', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    const before = await snapshotCounts(server);
    const response = await gql(server, grantMutation, { token: key, variables: { input: { accountId, amount: '100' } } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(await snapshotCounts(server)).toEqual(before);
  });
});

describe('the ledger', () => {
  it('lists entries newest first, paged, with a total count', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    await grant(server, accountId, '2');
    await grant(server, accountId, '3');
    const query = `query($first: Int, $after: String) { viewer { ledger(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { amount balanceAfter kind } } } } }`;
    const first = (await gqlOk(server, query, { token: key, variables: { first: 2 } })).viewer.ledger;
    expect(first.totalCount).toBe(3);
    expect(first.edges.map((e: any) => e.node.amount)).toEqual(['3.00', '2.00']);
    expect(first.edges.map((e: any) => e.node.balanceAfter)).toEqual(['6.00', '3.00']);
    const rest = (await gqlOk(server, query, { token: key, variables: { first: 2, after: first.pageInfo.endCursor } })).viewer.ledger;
    expect(rest.edges.map((e: any) => e.node.amount)).toEqual(['1.00']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });
});
