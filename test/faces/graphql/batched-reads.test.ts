import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompletion, startServerWithSimulator } from '../../helpers/completions.js';
import { createAccount, createKey, fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import type { TestServer } from '../../helpers/server.js';

// A field that every row of a list asks for is read once for the whole page:
// the statements of a list query do not grow with the rows it returns.

let server: TestServer;
beforeAll(async () => {
  // The ledger query is the one a dashboard runs; its nesting passes the default cost limit.
  // The sweeps and the key checks run statements of their own on a timer; they are kept out of the counts.
  ({ server } = await startServerWithSimulator({ QUERY_MAX_COST: '20000', SWEEP_INTERVAL_MS: '3600000', KEY_CHECK_INTERVAL_MS: '3600000' }));
});
afterAll(() => server.stop());

/**
 * The SQL statements the server sent while answering one request, but for
 * the catalogue cache's reload (at most one per 5 s, whatever the request).
 */
async function statementsOf(query: string, token: string): Promise<string[]> {
  const before = server.statements.length;
  await gqlOk(server, query, { token });
  return server.statements.slice(before).filter((s) => !/from "models"/.test(s));
}

const accountsWithKeys = '{ accounts(first: 50) { edges { node { apiKeys { id } } } } }';
const accountsWithLists = `{ accounts(first: 50) { edges { node {
  ledger(first: 5) { totalCount edges { node { id } } }
  completions(first: 5) { totalCount edges { node { id } } }
  usage(groupBy: []) { completions cost }
} } } }`;
const ledgerWithCompletions = '{ viewer { ledger(first: 100) { edges { node { completion { model { id } } } } } } }';

async function addAccountsWithKeys(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await createKey(server, await createAccount(server));
}

/** Settles `count` completions, each of which leaves a CHARGE entry in the ledger. */
async function charge(key: string, count: number): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await startCompletion(server, key, { maxTokens: 5 })).id);
  await expect
    .poll(async () => {
      const data = await gqlOk<{ viewer: { ledger: { totalCount: number } } }>(server, '{ viewer { ledger { totalCount } } }', { token: key });
      return data.viewer.ledger.totalCount;
    }, { timeout: 15_000 })
    .toBe(count + 1);
}

describe('a list query', () => {
  it("reads every account's keys in one statement, whether the page holds 2 accounts or 50", async () => {
    await addAccountsWithKeys(2);
    const small = await statementsOf(accountsWithKeys, server.adminToken);
    await addAccountsWithKeys(48);
    const large = await statementsOf(accountsWithKeys, server.adminToken);
    expect(large.filter((s) => /from "api_keys"/.test(s))).toHaveLength(1);
    expect(large).toHaveLength(small.length);
  });

  it("reads every account's ledger, completions and usage in one statement each, whether the page holds 2 accounts or 50", async () => {
    const fresh = await startServerWithSimulator({ QUERY_MAX_COST: '50000', SWEEP_INTERVAL_MS: '3600000' });
    try {
      const count = async (accounts: number) => {
        for (let i = 0; i < accounts; i++) await fundedCustomer(fresh.server, '1');
        const before = fresh.server.statements.length;
        const data = await gqlOk<{ accounts: { edges: { node: { ledger: { totalCount: number } } }[] } }>(fresh.server, accountsWithLists, { token: fresh.server.adminToken });
        expect(data.accounts.edges.every((e) => e.node.ledger.totalCount === 1)).toBe(true);
        return fresh.server.statements.slice(before).filter((s) => !/from "models"/.test(s));
      };
      const small = await count(2);
      const large = await count(48);
      expect(large.filter((s) => /from "ledger_entries"/.test(s))).toHaveLength(2);
      expect(large).toHaveLength(small.length);
    } finally {
      await fresh.server.stop();
    }
  });

  it("reads every ledger entry's completion in one statement, whether the page holds 2 charges or 100", async () => {
    const small = await fundedCustomer(server, '50');
    await charge(small.key, 2);
    const large = await fundedCustomer(server, '50');
    await charge(large.key, 100);
    // The first request of a key may also record its lastUsedAt; both are warmed up first.
    await statementsOf('{ viewer { id } }', small.key);
    await statementsOf('{ viewer { id } }', large.key);
    const few = await statementsOf(ledgerWithCompletions, small.key);
    const many = await statementsOf(ledgerWithCompletions, large.key);
    expect(many.filter((s) => /from "completions"/.test(s))).toHaveLength(1);
    // The statements themselves, so that a failure shows which one came in addition.
    expect(many.map(firstWords)).toEqual(few.map(firstWords));
  });
});

const firstWords = (statement: string) => statement.trim().replace(/\s+/g, ' ').slice(0, 60);
