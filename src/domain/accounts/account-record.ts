import { count, eq } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { accountTable } from '../../db/tables.js';
import { assertUuid } from '../ids.js';
import { creationOrder, cursorOf, pageClauses, type PageRequest } from '../pagination.js';

export type Account = typeof accountTable.$inferSelect;

export async function insertAccount(db: Database, name: string): Promise<Account> {
  const [account] = await db.insert(accountTable).values({ name }).returning();
  if (!account) throw new Error('insert returned no account');
  return account;
}

export async function findAccount(db: Database, id: string): Promise<Account | undefined> {
  assertUuid(id, ['id']);
  const [account] = await db.select().from(accountTable).where(eq(accountTable.id, id));
  return account;
}

const accountOrder = creationOrder('accounts', accountTable, false);

/** Where an account stands in the list of accounts, for the next page. */
export const accountCursor = (account: Account): string => cursorOf(accountOrder, undefined, account.id);

export function listAccounts(db: Database, page: PageRequest): Promise<Account[]> {
  const { where, orderBy } = pageClauses(accountOrder, page);
  return db.select().from(accountTable).where(where).orderBy(...orderBy).limit(page.limit);
}

export async function countAccounts(db: Database): Promise<number> {
  const [row] = await db.select({ n: count() }).from(accountTable);
  return row?.n ?? 0;
}
