import { and, count, eq, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Database } from '../db/database.js';
import { accountTable, completionTable } from '../db/tables.js';
import { assertUuid, pageClauses, type PageRequest, type SortKey } from './pagination.js';

// Persistence of completions. A completion costs two writes whatever its
// length: one statement reserves credits and inserts the row, one settles it
// (status, text, usage, charge, ledger entry). Nothing is written per token.

export type Completion = typeof completionTable.$inferSelect;
export type CompletionStatus = Completion['status'];
export const activeStatuses: CompletionStatus[] = ['PENDING', 'STREAMING'];

/** How a stream was cut into events, so it can be replayed exactly from the row. */
export interface StoredEventLog {
  /** Text length (UTF-16 units) of each event's delta, in order. */
  deltas: number[];
  /** Tool-call deltas by event index. */
  toolCalls?: Record<number, unknown>;
}

/**
 * Reserves `completion.reserved` and inserts the completion, in one
 * statement.
 *
 * Invariant: an account never has more reserved than its balance. The
 * conditional UPDATE takes the account's row lock and re-checks
 * `balance - reserved` after any concurrent reservation committed, so racing
 * starts cannot overdraw; the INSERT only happens when the UPDATE matched.
 * A unique violation on (account_id, idempotency_key) rolls both back.
 * Returns false when the available credits do not cover the reservation.
 */
export async function insertReserved(db: Database, completion: Completion): Promise<boolean> {
  const c = completion;
  const result = await db.execute(sql`
    with reserved as (
      update ${accountTable}
      set reserved = reserved + ${c.reserved}
      where id = ${c.accountId} and balance - reserved >= ${c.reserved}
      returning id)
    insert into completions (id, account_id, api_key_id, model_id, status, request, input_price_per_million,
      output_price_per_million, reserved, content, idempotency_key, instance_id, created_at)
    select ${c.id}, reserved.id, ${c.apiKeyId}, ${c.modelId}, 'PENDING', ${JSON.stringify(c.request)}::jsonb,
      ${c.inputPricePerMillion}, ${c.outputPricePerMillion}, ${c.reserved}, '', ${c.idempotencyKey},
      ${c.instanceId}, ${c.createdAt.toISOString()}::timestamptz
    from reserved
    returning id`);
  return rowsOf(result).length === 1;
}

export interface Settlement {
  status: Extract<CompletionStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED'>;
  content: string;
  toolCalls: unknown;
  eventLog: StoredEventLog;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  usageEstimated: boolean | null;
  /** What to charge; at most the reservation. */
  charge: bigint;
  errorCode: string | null;
  errorMessage: string | null;
  firstTokenAt: Date | null;
  finishedAt: Date;
}

/**
 * Ends a running completion in one statement: its final state, the release
 * of its reservation, the charge on the balance and the CHARGE ledger entry.
 *
 * Invariant: balance = sum(ledger) and reserved = sum of running
 * reservations, at every commit. The completion row is updated only while it
 * is still running, and the account and ledger updates read that update's
 * result, so when two settlements race (finish and cancel) the second finds
 * nothing to settle and changes nothing. The charge never exceeds the
 * reservation, so the balance never drops below what other completions hold.
 * Returns false when the completion was already settled.
 */
export async function settle(db: Database, completion: Completion, s: Settlement): Promise<boolean> {
  if (s.charge > completion.reserved) throw new Error('a charge must not exceed its reservation');
  const result = await db.execute(sql`
    with settled as (
      update completions set status = ${s.status}::completion_status, content = ${s.content},
        tool_calls = ${s.toolCalls === null ? null : JSON.stringify(s.toolCalls)}::jsonb,
        event_log = ${JSON.stringify(s.eventLog)}::jsonb, finish_reason = ${s.finishReason},
        prompt_tokens = ${s.promptTokens}, completion_tokens = ${s.completionTokens},
        usage_estimated = ${s.usageEstimated}, cost = ${s.charge}, error_code = ${s.errorCode},
        error_message = ${s.errorMessage}, first_token_at = ${s.firstTokenAt?.toISOString() ?? null}::timestamptz,
        finished_at = ${s.finishedAt.toISOString()}::timestamptz
      where id = ${completion.id} and status in ('PENDING', 'STREAMING')
      returning account_id, reserved),
    account as (
      update accounts set balance = accounts.balance - ${s.charge}, reserved = accounts.reserved - settled.reserved
      from settled where accounts.id = settled.account_id
      returning accounts.id, accounts.balance),
    entry as (
      insert into ledger_entries (account_id, amount, balance_after, kind, completion_id, note)
      select account.id, ${-s.charge}, account.balance, 'CHARGE', ${completion.id}, ${`completion ${completion.modelId}`}
      from account where ${s.charge} > 0)
    select account_id from settled`);
  return rowsOf(result).length === 1;
}

/**
 * Marks INTERRUPTED every running completion owned by an instance that is
 * gone, and releases its reservation; nothing is charged, since what was
 * generated died with the process. `ownerIsGone` is SQL over `instance_id`.
 */
export async function interruptOrphans(db: Database, ownerIsGone: SQL): Promise<number> {
  const result = await db.execute(sql`
    with orphans as (
      update completions set status = 'INTERRUPTED', error_code = 'INTERRUPTED', cost = 0,
        error_message = 'the server stopped while this completion ran; nothing was charged',
        finished_at = now()
      where status in ('PENDING', 'STREAMING') and ${ownerIsGone}
      returning account_id, reserved),
    released as (
      select account_id, sum(reserved) as total from orphans group by account_id),
    accounts_released as (
      update accounts set reserved = accounts.reserved - released.total
      from released where accounts.id = released.account_id
      returning accounts.id)
    select (select count(*) from orphans)::int as interrupted`);
  return rowsOf<{ interrupted: number }>(result)[0]?.interrupted ?? 0;
}

export async function findCompletion(db: Database, id: string): Promise<Completion | undefined> {
  assertUuid(id, 'id');
  const [completion] = await db.select().from(completionTable).where(eq(completionTable.id, id));
  return completion;
}

export async function findByIdempotencyKey(db: Database, accountId: string, key: string): Promise<Completion | undefined> {
  const [completion] = await db
    .select()
    .from(completionTable)
    .where(and(eq(completionTable.accountId, accountId), eq(completionTable.idempotencyKey, key)));
  return completion;
}

const completionOrder: SortKey = {
  columns: [completionTable.createdAt, completionTable.id],
  ofCursor: (cursor) => {
    assertUuid(cursor, 'after');
    return sql`select ${completionTable.createdAt}, ${completionTable.id} from ${completionTable} where ${completionTable.id} = ${cursor}`;
  },
  newestFirst: true,
};

export function listCompletions(db: Database, accountId: string, page: PageRequest): Promise<Completion[]> {
  const { where, orderBy } = pageClauses(completionOrder, page);
  return db
    .select()
    .from(completionTable)
    .where(and(eq(completionTable.accountId, accountId), where))
    .orderBy(...orderBy)
    .limit(page.limit);
}

export async function countCompletions(db: Database, accountId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(completionTable).where(eq(completionTable.accountId, accountId));
  return row?.n ?? 0;
}
