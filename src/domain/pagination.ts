import { and, asc, desc, sql, type Column, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { BadInputError } from './errors.js';
import { assertUuid } from './ids.js';

/**
 * One page of a keyset-paginated list. A cursor is opaque to clients: it
 * names its list (the kind of rows, and whose) and a row of it, so that a
 * cursor taken from one list cannot position another (see cursorOf).
 */
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
  /** What its lists hold, e.g. `ledger`: part of every cursor. */
  kind: string;
  columns: Column[];
  /** The same tuple for the row a cursor names, among the rows of `owner` (when lists have owners). */
  ofRow(row: string, owner: string | undefined, path: readonly string[]): SQL;
  newestFirst: boolean;
}

/** The order of a table by creation time, its uuid id breaking ties; rows are named by id. */
export function creationOrder(kind: string, table: PgTable & { createdAt: Column; id: Column }, newestFirst: boolean, ownerColumn?: Column): SortKey {
  return {
    kind,
    columns: [table.createdAt, table.id],
    ofRow: (row, owner, path) => {
      assertUuid(row, path);
      const ofOwner = ownerColumn && owner !== undefined ? sql` and ${ownerColumn} = ${owner}` : sql``;
      return sql`select ${table.createdAt}, ${table.id} from ${table} where ${table.id} = ${row}${ofOwner}`;
    },
    newestFirst,
  };
}

const listOf = (key: SortKey, owner: string | undefined) => `${key.kind}:${owner ?? ''}`;

/** The cursor of a row in the list of `key` that `owner` (if lists have one) holds. */
export function cursorOf(key: SortKey, owner: string | undefined, row: string): string {
  return Buffer.from(`${listOf(key, owner)}:${row}`).toString('base64url');
}

/** The row a cursor names; a cursor of any other list is the caller's error. */
function rowOf(cursor: string, key: SortKey, owner: string | undefined, path: readonly string[]): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const list = `${listOf(key, owner)}:`;
  if (!text.startsWith(list) || cursorOf(key, owner, text.slice(list.length)) !== cursor) {
    throw new BadInputError(path, 'is not a cursor of this list; take cursors from the list you page through');
  }
  return text.slice(list.length);
}

export interface PageClauses {
  where: SQL | undefined;
  orderBy: SQL[];
  /** The same order over the rows of a subquery named `alias` (a page read per owner, see account-pages.ts). */
  orderByIn(alias: string): SQL[];
}

/**
 * WHERE and ORDER BY for a page along a sort key (row comparisons use the
 * index). `owners` are the lists read at once (see account-pages.ts); a cursor
 * belongs to one list, so a page with a cursor reads exactly one.
 */
export function pageClauses(key: SortKey, page: PageRequest, owners: readonly string[] | undefined = undefined): PageClauses {
  const tuple = sql`(${sql.join(key.columns, sql`, `)})`;
  const [later, earlier] = key.newestFirst ? [sql`<`, sql`>`] : [sql`>`, sql`<`];
  const conditions: SQL[] = [];
  const bound = (cursor: string, name: 'after' | 'before') => {
    if (owners && owners.length !== 1) throw new BadInputError([name], 'a cursor pages through one list; ask for one list at a time');
    const owner = owners?.[0];
    return key.ofRow(rowOf(cursor, key, owner, [name]), owner, [name]);
  };
  if (page.after) conditions.push(sql`${tuple} ${later} (${bound(page.after, 'after')})`);
  if (page.before) conditions.push(sql`${tuple} ${earlier} (${bound(page.before, 'before')})`);
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
