import { and, eq, inArray, notInArray, sql, type SQL } from 'drizzle-orm';
import { NOT_NULL_VIOLATION, rowsOf, sqlStateOf, type Database } from '../../db/database.js';
import { accountTable, apiKeyTable, completionTable } from '../../db/tables.js';
import { assertUuid } from '../ids.js';
import { countOfEach, pageOfEach } from '../account-pages.js';
import { creationOrder, cursorOf, type PageRequest } from '../pagination.js';

// Persistence of completions. A completion costs two writes whatever its
// length: one statement reserves credits (and the key's limits) and inserts
// the row, one settles it (status, text, usage, charge, ledger entry, key
// counters). Nothing is written per token.

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

export type ReserveOutcome =
  | { type: 'reserved' }
  | { type: 'insufficient-credits' }
  | { type: 'too-many-streams'; limit: number }
  | { type: 'spend-limit'; limit: bigint; committed: bigint };

/**
 * Reserves `completion.reserved` on the account and on the key's limits, and
 * inserts the completion: one statement, all or nothing.
 *
 * Invariant: an account never has more reserved than its balance, and a key
 * never has more running streams or spend (spent + reserved) than its
 * limits. Each conditional UPDATE takes its row's lock and re-checks its
 * condition against the latest committed values, so racing starts cannot
 * overrun a limit, on any number of instances.
 *
 * All or nothing in one statement: every CTE of a statement runs, so the
 * account UPDATE only runs when the key UPDATE matched, and the INSERT takes
 * its account_id from the account UPDATE. When the key was reserved but the
 * credits were not, that account_id is NULL, the NOT NULL constraint fails
 * the whole statement, and the key's reservation rolls back with it. A key's
 * counters are kept for every key, limited or not, so that a limit set later
 * is measured against true counts. A unique violation on (account_id,
 * idempotency_key) also rolls everything back.
 */
export async function insertReserved(db: Database, completion: Completion): Promise<ReserveOutcome> {
  const c = completion;
  const keySlot = c.apiKeyId
    ? sql`update ${apiKeyTable} set active_streams = active_streams + 1, spend_reserved = spend_reserved + ${c.reserved}
        where id = ${c.apiKeyId}
          and (max_concurrent_streams is null or active_streams < max_concurrent_streams)
          and (spend_limit is null or spent + spend_reserved + ${c.reserved} <= spend_limit)
        returning id`
    : sql`select null::uuid as id`;
  try {
    const inserted = await db.execute(sql`
      with key_slot as (${keySlot}),
      reserved as (
        update ${accountTable} set reserved = reserved + ${c.reserved}
        where id = ${c.accountId} and balance - reserved >= ${c.reserved} and exists (select 1 from key_slot)
        returning id)
      insert into completions (id, account_id, api_key_id, model_id, status, request, request_fingerprint, input_price_per_million,
        output_price_per_million, cache_read_price_per_million, cache_write_price_per_million, reserved, content,
        idempotency_key, instance_id, created_at)
      select ${c.id}, reserved.id, ${c.apiKeyId}, ${c.modelId}, 'PENDING', ${JSON.stringify(c.request)}::jsonb, ${c.requestFingerprint},
        ${c.inputPricePerMillion}, ${c.outputPricePerMillion}, ${c.cacheReadPricePerMillion}, ${c.cacheWritePricePerMillion},
        ${c.reserved}, '', ${c.idempotencyKey},
        ${c.instanceId}, ${c.createdAt.toISOString()}::timestamptz
      from key_slot left join reserved on true
      returning id`);
    if (rowsOf(inserted).length === 1) return { type: 'reserved' };
  } catch (error) {
    if (sqlStateOf(error) !== NOT_NULL_VIOLATION) throw error;
    return { type: 'insufficient-credits' };
  }
  return c.apiKeyId ? keyLimitOutcome(db, c) : { type: 'insufficient-credits' };
}

/** Why a rolled-back reservation failed: one of the key's limits, or else the account's credits. */
async function keyLimitOutcome(db: Database, c: Completion): Promise<ReserveOutcome> {
  const [key] = await db.select().from(apiKeyTable).where(eq(apiKeyTable.id, c.apiKeyId ?? ''));
  if (key?.maxConcurrentStreams !== null && key?.maxConcurrentStreams !== undefined && key.activeStreams >= key.maxConcurrentStreams) {
    return { type: 'too-many-streams', limit: key.maxConcurrentStreams };
  }
  if (key?.spendLimit !== null && key?.spendLimit !== undefined && key.spent + key.spendReserved + c.reserved > key.spendLimit) {
    return { type: 'spend-limit', limit: key.spendLimit, committed: key.spent + key.spendReserved };
  }
  return { type: 'insufficient-credits' };
}

export interface Settlement {
  status: Extract<CompletionStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED'>;
  content: string;
  toolCalls: unknown;
  eventLog: StoredEventLog;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedPromptTokens: number | null;
  cacheWriteTokens: number | null;
  usageEstimated: boolean | null;
  /** What to charge; at most the reservation. */
  charge: bigint;
  /** The model that answered (null: none did) and the prices charged: those of the model last called. */
  answeredModelId: string | null;
  inputPricePerMillion: bigint;
  outputPricePerMillion: bigint;
  cacheReadPricePerMillion: bigint;
  cacheWritePricePerMillion: bigint;
  errorCode: string | null;
  errorMessage: string | null;
  errorRetryAfterSeconds: number | null;
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
  if (s.charge < 0n || s.charge > completion.reserved) throw new Error('a charge must be between zero and its reservation');
  const result = await db.execute(sql`
    with settled as (
      update completions set status = ${s.status}::completion_status, content = ${s.content},
        tool_calls = ${s.toolCalls === null ? null : JSON.stringify(s.toolCalls)}::jsonb,
        event_log = ${JSON.stringify(s.eventLog)}::jsonb, finish_reason = ${s.finishReason},
        prompt_tokens = ${s.promptTokens}, completion_tokens = ${s.completionTokens},
        cached_prompt_tokens = ${s.cachedPromptTokens}, cache_write_tokens = ${s.cacheWriteTokens},
        usage_estimated = ${s.usageEstimated}, cost = ${s.charge}, answered_model_id = ${s.answeredModelId},
        input_price_per_million = ${s.inputPricePerMillion}, output_price_per_million = ${s.outputPricePerMillion},
        cache_read_price_per_million = ${s.cacheReadPricePerMillion}, cache_write_price_per_million = ${s.cacheWritePricePerMillion},
        error_code = ${s.errorCode}, error_message = ${s.errorMessage}, error_retry_after_seconds = ${s.errorRetryAfterSeconds},
        first_token_at = ${s.firstTokenAt?.toISOString() ?? null}::timestamptz,
        finished_at = ${s.finishedAt.toISOString()}::timestamptz
      where id = ${completion.id} and status in ('PENDING', 'STREAMING')
      returning account_id, api_key_id, reserved),
    account as (
      update accounts set balance = accounts.balance - ${s.charge}, reserved = accounts.reserved - settled.reserved
      from settled where accounts.id = settled.account_id
      returning accounts.id, accounts.balance),
    entry as (
      insert into ledger_entries (account_id, amount, balance_after, kind, completion_id, note)
      select account.id, ${-s.charge}, account.balance, 'CHARGE', ${completion.id}, ${ledgerNoteOf(completion, s)}
      from account where ${s.charge}::bigint > 0),
    key_released as (
      update api_keys set active_streams = api_keys.active_streams - 1,
        spend_reserved = api_keys.spend_reserved - settled.reserved, spent = api_keys.spent + ${s.charge}
      from settled where api_keys.id = settled.api_key_id)
    select account_id from settled`);
  return rowsOf(result).length === 1;
}

/** A charge's note names the model asked for, and the fallback when that answered. */
function ledgerNoteOf(completion: Completion, s: Settlement): string {
  const answered = s.answeredModelId !== null && s.answeredModelId !== completion.modelId ? ` (answered by its fallback ${s.answeredModelId})` : '';
  return `completion ${completion.modelId}${answered}`;
}

/** Why running completions are ended from outside their run. */
export interface Interruption {
  code: string;
  message: string;
}

/**
 * Marks INTERRUPTED every running completion `which` selects (SQL over the
 * completions row: its instance_id, its created_at), and releases its
 * reservation and its key's stream slot; nothing is charged, since what was
 * generated died with its run.
 *
 * Invariant: as for settle, the row is updated only while it is still
 * running and the releases read that update's result, so racing with its
 * owner's settlement (or another sweep) releases every reservation once.
 */
export async function interruptRunning(db: Database, which: SQL, reason: Interruption): Promise<string[]> {
  const result = await db.execute(sql`
    with orphans as (
      update completions set status = 'INTERRUPTED', error_code = ${reason.code}, cost = 0,
        error_message = ${reason.message}, finished_at = now()
      where status in ('PENDING', 'STREAMING') and ${which}
      returning id, account_id, api_key_id, reserved),
    released as (
      select account_id, sum(reserved) as total from orphans group by account_id),
    accounts_released as (
      update accounts set reserved = accounts.reserved - released.total
      from released where accounts.id = released.account_id),
    keys_released as (
      update api_keys set active_streams = api_keys.active_streams - k.streams, spend_reserved = api_keys.spend_reserved - k.total
      from (select api_key_id, count(*) as streams, sum(reserved) as total from orphans group by api_key_id) k
      where api_keys.id = k.api_key_id)
    select id from orphans`);
  return rowsOf<{ id: string }>(result).map((r) => r.id);
}

export async function findCompletion(db: Database, id: string): Promise<Completion | undefined> {
  assertUuid(id, ['id']);
  const [completion] = await db.select().from(completionTable).where(eq(completionTable.id, id));
  return completion;
}

export function findCompletions(db: Database, ids: readonly string[]): Promise<Completion[]> {
  for (const id of ids) assertUuid(id, ['id']);
  return db.select().from(completionTable).where(inArray(completionTable.id, [...ids]));
}

/** Which of these completions are no longer running (their rows settled or interrupted). */
export async function settledAmong(db: Database, ids: readonly string[]): Promise<string[]> {
  const rows = await db
    .select({ id: completionTable.id })
    .from(completionTable)
    .where(and(inArray(completionTable.id, [...ids]), notInArray(completionTable.status, activeStatuses)));
  return rows.map((r) => r.id);
}

export async function findByIdempotencyKey(db: Database, accountId: string, key: string): Promise<Completion | undefined> {
  const [completion] = await db
    .select()
    .from(completionTable)
    .where(and(eq(completionTable.accountId, accountId), eq(completionTable.idempotencyKey, key)));
  return completion;
}

const completionOrder = creationOrder('completions', completionTable, true, completionTable.accountId);

/** Where a completion stands in its account's list, for the next page. */
export const completionCursor = (completion: Completion): string => cursorOf(completionOrder, completion.accountId, completion.id);

/** A page of each account's completions, newest first, in one statement (see account-pages.ts). */
export function listCompletionsOf(db: Database, accountIds: readonly string[], page: PageRequest): Promise<Completion[][]> {
  return pageOfEach<Completion>(db, completionTable, completionOrder, accountIds, page);
}

export function countCompletionsOf(db: Database, accountIds: readonly string[]): Promise<number[]> {
  return countOfEach(db, completionTable, accountIds);
}
