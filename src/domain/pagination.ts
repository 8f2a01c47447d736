import { and, asc, desc, sql, type Column, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { assertUuid } from './ids.js';

/** One page of a keyset-paginated list; a cursor is the id of a row. */
export interface PageRequest {
  after?: string;
  before?: string;
  /** How many rows to read (callers ask one more to see if another page exists). */
  limit: number;
  /** Read from the end (a `last` page). */
  inverted: boolean;
}

/** The order of a list: a tuple of columns ending with a unique one. */
export interface SortKey {
  columns: Column[];
  /** A sub-select of the same tuple for the row a cursor names. */
  ofCursor(cursor: string): SQL;
  newestFirst: boolean;
}

/** The order of a table by creation time, its uuid id breaking ties; cursors are ids. */
export function creationOrder(table: PgTable & { createdAt: Column; id: Column }, newestFirst: boolean): SortKey {
  return {
    columns: [table.createdAt, table.id],
    ofCursor: (cursor) => {
      assertUuid(cursor, ['after']);
      return sql`select ${table.createdAt}, ${table.id} from ${table} where ${table.id} = ${cursor}`;
    },
    newestFirst,
  };
}

export interface PageClauses {
  where: SQL | undefined;
  orderBy: SQL[];
  /** The same order over the rows of a subquery named `alias` (a page read per owner, see pageOfEach). */
  orderByIn(alias: string): SQL[];
}

/** WHERE and ORDER BY for a page along a sort key (row comparisons use the index). */
export function pageClauses(key: SortKey, page: PageRequest): PageClauses {
  const tuple = sql`(${sql.join(key.columns, sql`, `)})`;
  const [later, earlier] = key.newestFirst ? [sql`<`, sql`>`] : [sql`>`, sql`<`];
  const conditions: SQL[] = [];
  if (page.after) conditions.push(sql`${tuple} ${later} (${key.ofCursor(page.after)})`);
  if (page.before) conditions.push(sql`${tuple} ${earlier} (${key.ofCursor(page.before)})`);
  const descending = key.newestFirst !== page.inverted;
  const direction = descending ? sql`desc` : sql`asc`;
  return {
    where: conditions.length ? and(...conditions) : undefined,
    orderBy: key.columns.map((c) => (descending ? desc(c) : asc(c))),
    orderByIn: (alias) => key.columns.map((c) => sql`${sql.identifier(alias)}.${sql.identifier(c.name)} ${direction}`),
  };
}

/** Rows grouped by owner, in the order of `ownerIds`, each group keeping the rows' order. */
export function groupByOwner<T>(ownerIds: readonly string[], rows: readonly T[], ownerOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(ownerIds.map((id) => [id, []]));
  for (const row of rows) groups.get(ownerOf(row))?.push(row);
  return ownerIds.map((id) => groups.get(id) ?? []);
}

/** Per-owner counts (`count(*) … group by owner`), in the order of `ownerIds`; zero for owners without rows. */
export function countsByOwner(ownerIds: readonly string[], rows: readonly { accountId: string; n: number }[]): number[] {
  const counts = new Map(rows.map((r) => [r.accountId, r.n]));
  return ownerIds.map((id) => counts.get(id) ?? 0);
}
