import { and, count, eq, inArray } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../db/database.js';
import { accountTable } from '../db/tables.js';
import { groupByOwner, pageClauses, type PageRequest, type SortKey } from './pagination.js';

// The lists that a page of accounts fans out to (each account's ledger, its
// completions), read for every account of the page at once, so that a
// GraphQL list costs the same statements for 2 accounts as for 100.

/** A table whose rows belong to an account. */
type OwnedTable = PgTable & { accountId: PgColumn };

/**
 * A page of each account's rows along `key`, in one statement: a LATERAL
 * subquery per account reads its page through the account's index, exactly
 * as a page of one account would.
 */
export async function pageOfEach<Row extends { accountId: string }>(
  db: Database,
  table: OwnedTable,
  key: SortKey,
  accountIds: readonly string[],
  page: PageRequest,
): Promise<Row[][]> {
  const { where, orderBy, orderByIn } = pageClauses(key, page, accountIds);
  const owned = db
    .select()
    .from(table as PgTable)
    .where(and(eq(table.accountId, accountTable.id), where))
    .orderBy(...orderBy)
    .limit(page.limit)
    .as('owned');
  const rows = await db
    .select({ row: owned._.selectedFields })
    .from(accountTable)
    .crossJoinLateral(owned)
    .where(inArray(accountTable.id, [...accountIds]))
    .orderBy(accountTable.id, ...orderByIn('owned'));
  return groupByOwner(accountIds, rows.map((r) => r.row as unknown as Row), (row) => row.accountId);
}

/** How many rows each account holds, in the order of `accountIds`; zero for those without any. */
export async function countOfEach(db: Database, table: OwnedTable, accountIds: readonly string[]): Promise<number[]> {
  const rows = await db
    .select({ accountId: table.accountId, n: count() })
    .from(table as PgTable)
    .where(inArray(table.accountId, [...accountIds]))
    .groupBy(table.accountId);
  const counts = new Map(rows.map((r) => [r.accountId as string, r.n]));
  return accountIds.map((id) => counts.get(id) ?? 0);
}
