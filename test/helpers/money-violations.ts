import type pg from 'pg';

// No vitest here: the soak (bench/soak.ts) runs these checks outside the test runner.

/** Rows that break a money invariant, by invariant; all empty when the books are right. */
export interface MoneyViolations {
  'balance = sum(ledger)': unknown[];
  'balanceAfter = running sum': unknown[];
  'reserved = sum of running reservations': unknown[];
  "key counters = the key's running completions and charges": unknown[];
}

/**
 * The money invariants, read straight from Postgres: every balance equals the
 * sum of its ledger, every entry's balanceAfter is the running sum, and every
 * reservation is held by a running completion. Used by tests and the soak.
 */
export async function moneyViolations(pool: Pick<pg.Pool, 'query'>): Promise<MoneyViolations> {
  const { rows: balances } = await pool.query(`
    select a.id, a.balance::text, coalesce(sum(l.amount), 0)::text as ledger_sum
    from accounts a left join ledger_entries l on l.account_id = a.id
    group by a.id having a.balance <> coalesce(sum(l.amount), 0)`);
  const { rows: running } = await pool.query(`
    select id from (
      select id, balance_after, sum(amount) over (partition by account_id order by id) as running
      from ledger_entries) e
    where balance_after <> running`);
  const { rows: reserved } = await pool.query(`
    select a.id from accounts a left join completions c
      on c.account_id = a.id and c.status in ('PENDING', 'STREAMING')
    group by a.id having a.reserved <> coalesce(sum(c.reserved), 0)`);
  const { rows: keys } = await pool.query(`
    select k.id from api_keys k
    left join completions c on c.api_key_id = k.id
    left join ledger_entries l on l.completion_id = c.id and l.kind = 'CHARGE'
    group by k.id
    having k.active_streams <> count(c.id) filter (where c.status in ('PENDING', 'STREAMING'))
        or k.spend_reserved <> coalesce(sum(c.reserved) filter (where c.status in ('PENDING', 'STREAMING')), 0)
        or k.spent <> coalesce(-sum(l.amount), 0)`);
  return {
    'balance = sum(ledger)': balances,
    'balanceAfter = running sum': running,
    'reserved = sum of running reservations': reserved,
    "key counters = the key's running completions and charges": keys,
  };
}
