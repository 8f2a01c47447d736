import { expect } from 'vitest';
import type { TestServer } from './server.js';

/**
 * The money invariants, read straight from Postgres: every balance equals the
 * sum of its ledger, every entry's balanceAfter is the running sum, and every
 * reservation is held by a running completion.
 */
export async function expectLedgerInvariant(server: Pick<TestServer, 'pg'>): Promise<void> {
  const { rows: balances } = await server.pg.query(`
    select a.id, a.balance::text, coalesce(sum(l.amount), 0)::text as ledger_sum
    from accounts a left join ledger_entries l on l.account_id = a.id
    group by a.id having a.balance <> coalesce(sum(l.amount), 0)`);
  expect(balances, 'balance = sum(ledger)').toEqual([]);
  const { rows: running } = await server.pg.query(`
    select id from (
      select id, balance_after, sum(amount) over (partition by account_id order by id) as running
      from ledger_entries) e
    where balance_after <> running`);
  expect(running, 'balanceAfter = running sum').toEqual([]);
  const { rows: reserved } = await server.pg.query(`
    select a.id from accounts a left join completions c
      on c.account_id = a.id and c.status in ('PENDING', 'STREAMING')
    group by a.id having a.reserved <> coalesce(sum(c.reserved), 0)`);
  expect(reserved, 'reserved = sum of running reservations').toEqual([]);
  const { rows: keys } = await server.pg.query(`
    select k.id from api_keys k
    left join completions c on c.api_key_id = k.id
    left join ledger_entries l on l.completion_id = c.id and l.kind = 'CHARGE'
    group by k.id
    having k.active_streams <> count(c.id) filter (where c.status in ('PENDING', 'STREAMING'))
        or k.spend_reserved <> coalesce(sum(c.reserved) filter (where c.status in ('PENDING', 'STREAMING')), 0)
        or k.spent <> coalesce(-sum(l.amount), 0)`);
  expect(keys, "key counters = the key's running completions and charges").toEqual([]);
}

/** Row counts of every table that money or keys live in: "changes nothing" compares these. */
export async function snapshotCounts(server: TestServer) {
  const { rows } = await server.pg.query(`
    select (select count(*) from accounts)::int as accounts,
           (select count(*) from api_keys)::int as api_keys,
           (select count(*) from api_keys where revoked_at is not null)::int as revoked_keys,
           (select count(*) from ledger_entries)::int as ledger_entries,
           (select count(*) from completions)::int as completions,
           (select coalesce(sum(balance), 0)::text from accounts) as balances,
           (select coalesce(sum(reserved), 0)::text from accounts) as reserved,
           (select md5(string_agg(id || input_price_per_million || output_price_per_million || enabled || max_output_tokens, ',' order by id)) from models) as models`);
  return rows[0] as Record<string, unknown>;
}
