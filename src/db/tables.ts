import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

// Every amount of money is a bigint count of nanocredits (1 credit = 1 USD =
// 10^9 units); see src/domain/money.ts for why that unit.
const money = (name: string) => bigint(name, { mode: 'bigint' });
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const accountTable = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    // balance is the sum of this account's ledger entries, kept in the same
    // statement as every ledger insert; reserved is held by running completions.
    balance: money('balance').notNull().default(0n),
    reserved: money('reserved').notNull().default(0n),
    createdAt: createdAt(),
  },
  (t) => [
    check('accounts_reserved_non_negative', sql`${t.reserved} >= 0`),
    check('accounts_reservation_covered', sql`${t.balance} - ${t.reserved} >= 0`),
    index('accounts_created_at_idx').on(t.createdAt, t.id),
  ],
);

export const apiKeyTable = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accountTable.id),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    // HMAC-SHA-256 of the whole key, hex; the key itself is never stored.
    keyHash: text('key_hash').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    // Limits; null means none.
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    requestsPerMinute: integer('requests_per_minute'),
    maxConcurrentStreams: integer('max_concurrent_streams'),
    spendLimit: money('spend_limit'),
    allowedModels: text('allowed_models').array(),
    // Counters kept by the same statements that reserve and settle, so that
    // concurrent starts cannot overrun a limit, on any number of instances.
    activeStreams: integer('active_streams').notNull().default(0),
    spent: money('spent').notNull().default(0n),
    spendReserved: money('spend_reserved').notNull().default(0n),
  },
  (t) => [
    uniqueIndex('api_keys_key_hash_idx').on(t.keyHash),
    index('api_keys_account_idx').on(t.accountId, t.createdAt),
  ],
);

export const ledgerKind = pgEnum('ledger_kind', ['GRANT', 'CHARGE', 'REFUND', 'ADJUSTMENT']);

export const modelTable = pgTable('models', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  aliases: text('aliases').array().notNull().default(sql`'{}'::text[]`),
  upstreamId: text('upstream_id').notNull(),
  // Prices are nanocredits per million tokens, always a multiple of 10^6 so
  // that one token costs a whole number of nanocredits.
  inputPricePerMillion: money('input_price_per_million').notNull(),
  outputPricePerMillion: money('output_price_per_million').notNull(),
  // Prompt tokens the upstream read from its prompt cache, and wrote to it,
  // are charged at these instead of the input price (seeded at 0.1× and
  // 1.25× of it, Anthropic's multipliers; same unit and rule as above).
  cacheReadPricePerMillion: money('cache_read_price_per_million').notNull(),
  cacheWritePricePerMillion: money('cache_write_price_per_million').notNull(),
  description: text('description'),
  enabled: boolean('enabled').notNull().default(true),
  recommended: boolean('recommended').notNull().default(false),
  maxOutputTokens: integer('max_output_tokens').notNull(),
  // The model a completion switches to when this one keeps failing before
  // any output (retries exhausted, or its circuit breaker open); never
  // priced above this one (see catalogue/fallback-model.ts).
  fallbackModelId: text('fallback_model_id').references((): AnyPgColumn => modelTable.id),
  sortOrder: integer('sort_order').notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const completionStatus = pgEnum('completion_status', [
  'PENDING',
  'STREAMING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'INTERRUPTED',
]);

export const completionTable = pgTable(
  'completions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accountTable.id),
    apiKeyId: uuid('api_key_id').references(() => apiKeyTable.id),
    modelId: text('model_id')
      .notNull()
      .references(() => modelTable.id),
    status: completionStatus('status').notNull().default('PENDING'),
    // The validated request as sent upstream (model and prices resolved).
    request: jsonb('request').notNull(),
    // A hash of the request as asked, which its idempotency key is bound to;
    // null on rows from before fingerprints (a retry of those is refused).
    requestFingerprint: text('request_fingerprint'),
    // Prices are copied at start so a later price change never alters what a
    // running completion costs; a completion that switches to its model's
    // fallback (before any output) settles with the fallback's prices.
    inputPricePerMillion: money('input_price_per_million').notNull(),
    outputPricePerMillion: money('output_price_per_million').notNull(),
    // 0 only on rows written before prompt-cache prices existed (or by an
    // older instance during a rolling deploy), which charged cache tokens at
    // the input price; every completion started now copies the model's.
    cacheReadPricePerMillion: money('cache_read_price_per_million').notNull().default(0n),
    cacheWritePricePerMillion: money('cache_write_price_per_million').notNull().default(0n),
    reserved: money('reserved').notNull(),
    content: text('content').notNull().default(''),
    toolCalls: jsonb('tool_calls'),
    // Sizes of the text deltas as they were published, so that events can be
    // replayed exactly from the row once the in-memory log is gone.
    eventLog: jsonb('event_log'),
    finishReason: text('finish_reason'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    // Of promptTokens (which include them): read from the upstream's prompt
    // cache, and written to it.
    cachedPromptTokens: integer('cached_prompt_tokens'),
    cacheWriteTokens: integer('cache_write_tokens'),
    usageEstimated: boolean('usage_estimated'),
    cost: money('cost'),
    // The model that produced the answer: model_id, or its fallback; null
    // when none answered (failed, or cancelled before any output).
    answeredModelId: text('answered_model_id').references(() => modelTable.id),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    // The upstream's retry-after of an UPSTREAM_RATE_LIMITED failure, in seconds.
    errorRetryAfterSeconds: integer('error_retry_after_seconds'),
    idempotencyKey: text('idempotency_key'),
    // Which server process runs it; a process that dies leaves rows the next
    // start marks INTERRUPTED.
    instanceId: text('instance_id').notNull(),
    createdAt: createdAt(),
    firstTokenAt: timestamp('first_token_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('completions_idempotency_idx').on(t.accountId, t.idempotencyKey),
    index('completions_account_idx').on(t.accountId, t.createdAt, t.id),
    index('completions_active_idx')
      .on(t.instanceId)
      .where(sql`${t.status} in ('PENDING', 'STREAMING')`),
  ],
);

export const ledgerTable = pgTable(
  'ledger_entries',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accountTable.id),
    amount: money('amount').notNull(),
    balanceAfter: money('balance_after').notNull(),
    kind: ledgerKind('kind').notNull(),
    completionId: uuid('completion_id'),
    note: text('note'),
    idempotencyKey: text('idempotency_key'),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.completionId], foreignColumns: [completionTable.id] }),
    uniqueIndex('ledger_idempotency_idx').on(t.accountId, t.idempotencyKey),
    // At most one charge per completion, whatever races between settle paths.
    uniqueIndex('ledger_completion_charge_idx')
      .on(t.completionId)
      .where(sql`${t.kind} = 'CHARGE'`),
    index('ledger_account_idx').on(t.accountId, t.id),
  ],
);

// Server-wide secrets that must survive restarts (the API key hashing pepper
// when none is configured).
export const settingTable = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

// Live server processes. A completion whose instance stopped beating was
// orphaned by a crash and is settled as INTERRUPTED by whoever notices first.
export const instanceTable = pgTable('instances', {
  id: text('id').primaryKey(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
});
