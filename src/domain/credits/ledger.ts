import { TransactionRollbackError, and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { accountTable, ledgerTable } from '../../db/tables.js';
import { BadInputError, NotFoundError } from '../errors.js';
import { validateIdempotencyKey } from '../idempotency.js';
import { assertUuid } from '../ids.js';
import { countOfEach, pageOfEach } from '../account-pages.js';
import { cursorOf, type PageRequest, type SortKey } from '../pagination.js';

export type LedgerEntry = typeof ledgerTable.$inferSelect;

export interface GrantInput {
  accountId: string;
  amount: bigint;
  note?: string | null;
  idempotencyKey?: string | null;
}

/**
 * Adds credits to an account.
 *
 * Invariant: accounts.balance = sum(ledger_entries.amount) of the account.
 * The balance update and the ledger insert commit together; the balance
 * update takes the account's row lock first, so concurrent grants serialise
 * and each entry's balanceAfter is the balance right after it. A second grant
 * with the same idempotency key waits for that lock, then hits the unique
 * index, rolls its balance update back and returns the first grant's entry.
 */
export async function grantCredits(db: Database, input: GrantInput): Promise<LedgerEntry> {
  assertUuid(input.accountId, ['accountId']);
  const { amount } = input;
  if (amount <= 0n) throw new BadInputError(['amount'], 'must be greater than zero');
  const idempotencyKey = validateIdempotencyKey(input.idempotencyKey);
  const note = input.note?.trim() || null;
  if (note && note.length > 1000) throw new BadInputError(['note'], 'must be at most 1000 characters');

  const granted = await db.transaction(async (tx) => {
    const [account] = await tx
      .update(accountTable)
      .set({ balance: sql`${accountTable.balance} + ${amount}` })
      .where(eq(accountTable.id, input.accountId))
      .returning({ balance: accountTable.balance });
    if (!account) throw new NotFoundError(`no account ${input.accountId}`);
    const [entry] = await tx
      .insert(ledgerTable)
      .values({ accountId: input.accountId, amount, balanceAfter: account.balance, kind: 'GRANT', note, idempotencyKey })
      .onConflictDoNothing()
      .returning();
    if (!entry) tx.rollback();
    return entry;
  }).catch((error: unknown) => {
    if (isRollback(error)) return undefined;
    throw error;
  });
  if (granted) return granted;

  const [earlier] = await db
    .select()
    .from(ledgerTable)
    .where(and(eq(ledgerTable.accountId, input.accountId), eq(ledgerTable.idempotencyKey, idempotencyKey ?? '')));
  if (!earlier) throw new Error('idempotent grant vanished');
  if (earlier.amount !== amount) {
    throw new BadInputError(['idempotencyKey'], 'was already used for a grant of a different amount; use a new key for a new grant');
  }
  return earlier;
}

function isRollback(error: unknown): boolean {
  return error instanceof TransactionRollbackError;
}

const ledgerOrder: SortKey = {
  kind: 'ledger',
  columns: [ledgerTable.id],
  ofRow: (row, _owner, path) => {
    if (!/^\d{1,19}$/.test(row)) throw new BadInputError(path, `is not a ledger cursor: ${JSON.stringify(row)}`);
    return sql`${BigInt(row)}`;
  },
  newestFirst: true,
};

/** Where an entry stands in its account's ledger, for the next page. */
export const ledgerCursor = (entry: LedgerEntry): string => cursorOf(ledgerOrder, entry.accountId, entry.id.toString());

/** A page of each account's ledger, newest first, in one statement (see account-pages.ts). */
export function listLedgerOf(db: Database, accountIds: readonly string[], page: PageRequest): Promise<LedgerEntry[][]> {
  return pageOfEach<LedgerEntry>(db, ledgerTable, ledgerOrder, accountIds, page);
}

export function countLedgerOf(db: Database, accountIds: readonly string[]): Promise<number[]> {
  return countOfEach(db, ledgerTable, accountIds);
}
