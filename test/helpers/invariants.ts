import { expect } from 'vitest';
import { moneyViolations } from './money-violations.js';
import type { TestServer } from './server.js';

export async function expectLedgerInvariant(server: Pick<TestServer, 'pg'>): Promise<void> {
  for (const [invariant, rows] of Object.entries(await moneyViolations(server.pg))) expect(rows, invariant).toEqual([]);
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
