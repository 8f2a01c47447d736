import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { accountTable, completionTable } from '../../db/tables.js';
import { BadInputError, field, say } from '../errors.js';
import { groupByOwner } from '../pagination.js';

export type UsageGrouping = 'MODEL' | 'DAY';

/** What completions in a range add up to, however they are grouped. */
export interface UsageTotals {
  completions: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  cost: bigint;
  /** Mean time to first token over completions that had one, in ms. */
  meanTimeToFirstTokenMs: number | null;
}

export interface UsageRow extends UsageTotals {
  /** Set when grouped by model. */
  modelId: string | null;
  /** UTC day, YYYY-MM-DD; set when grouped by day. */
  day: string | null;
}

export interface UsageRange {
  from: Date;
  to: Date;
}

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;

/** The range asked for: by default the last 30 days; at most a year. */
export function usageRange(from: Date | null | undefined, to: Date | null | undefined): UsageRange {
  const end = to ?? new Date();
  const start = from ?? new Date(end.getTime() - 30 * DAY_MS);
  if (start.getTime() >= end.getTime()) throw new BadInputError(['from'], say`must be before ${field('to')}`);
  if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new BadInputError(['from'], `a usage range is at most ${MAX_RANGE_DAYS} days`);
  return { from: start, to: end };
}

const day = sql<string>`to_char(${completionTable.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
const totals = {
  completions: sql<number>`count(*)::int`,
  failed: sql<number>`(count(*) filter (where ${completionTable.status} in ('FAILED', 'INTERRUPTED')))::int`,
  // Sums pass 2^31 long before a year of traffic does; bigint, as a Number (exact to 2^53).
  promptTokens: sql<number>`coalesce(sum(${completionTable.promptTokens}), 0)::bigint`.mapWith(Number),
  completionTokens: sql<number>`coalesce(sum(${completionTable.completionTokens}), 0)::bigint`.mapWith(Number),
  cost: sql<string>`coalesce(sum(${completionTable.cost}), 0)::text`,
  meanTimeToFirstTokenMs: sql<number | null>`(avg(extract(epoch from ${completionTable.firstTokenAt} - ${completionTable.createdAt})) * 1000)::float8`,
};

function inRange(range: UsageRange): SQL | undefined {
  return and(gte(completionTable.createdAt, range.from), lt(completionTable.createdAt, range.to));
}

const noUsage: UsageTotals = { completions: 0, failed: 0, promptTokens: 0, completionTokens: 0, cost: 0n, meanTimeToFirstTokenMs: null };

/**
 * Each account's completions in a range, grouped by model and/or UTC day, in
 * one statement for all the accounts. Without grouping, an account has one
 * row of totals even when it has no completions.
 */
export async function accountUsageOf(db: Database, accountIds: readonly string[], range: UsageRange, groupBy: UsageGrouping[]): Promise<UsageRow[][]> {
  const byModel = groupBy.includes('MODEL');
  const byDay = groupBy.includes('DAY');
  const groups: SQL[] = [];
  if (byModel) groups.push(sql`${completionTable.modelId}`);
  if (byDay) groups.push(day);
  const rows = await db
    .select({ accountId: completionTable.accountId, modelId: byModel ? completionTable.modelId : sql<null>`null`, day: byDay ? day : sql<null>`null`, ...totals })
    .from(completionTable)
    .where(and(inArray(completionTable.accountId, [...accountIds]), inRange(range)))
    .groupBy(completionTable.accountId, ...groups)
    .orderBy(completionTable.accountId, ...groups);
  const usage = groupByOwner(
    accountIds,
    rows.map(({ accountId, ...r }) => ({ accountId, row: { ...r, cost: BigInt(r.cost) } })),
    (r) => r.accountId,
  ).map((owned) => owned.map((r) => r.row));
  return groups.length > 0 ? usage : usage.map((owned) => (owned.length > 0 ? owned : [{ ...noUsage, modelId: null, day: null }]));
}

export interface AccountUsageRow extends UsageTotals {
  accountId: string;
  accountName: string;
}

/** Every account's totals in a range, most expensive first. */
export async function usageByAccount(db: Database, range: UsageRange, limit: number): Promise<AccountUsageRow[]> {
  const rows = await db
    .select({ accountId: completionTable.accountId, accountName: accountTable.name, ...totals })
    .from(completionTable)
    .innerJoin(accountTable, eq(accountTable.id, completionTable.accountId))
    .where(inRange(range))
    .groupBy(completionTable.accountId, accountTable.name)
    .orderBy(desc(sql`coalesce(sum(${completionTable.cost}), 0)`), completionTable.accountId)
    .limit(limit);
  return rows.map((r) => ({ ...r, cost: BigInt(r.cost) }));
}
