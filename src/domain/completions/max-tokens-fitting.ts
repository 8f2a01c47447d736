import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../../db/database.js';
import type { Completion } from './completion-record.js';
import type { Prices } from './prompt-cache-pricing.js';
import { worstCaseCost } from './token-estimates.js';
import type { UpstreamRequest } from './upstream.js';

// Fitting a reservation to the credits available. Some clients (Claude
// Code) ask for the model's whole output limit on every call: 32,000 tokens
// of Sonnet 4.6 is a 0.48-credit worst case, which an account holding a
// few credits could not start even for "hello". A start that asks for it
// may, when that worst case is more than the account (and its key's spend
// limit) can hold, run with maxTokens lowered to the largest value that
// fits; the upstream is sent the lowered value, so it stops there with
// finish_reason `length`. Below MIN_FITTED_MAX_TOKENS the start is refused
// as usual: an answer cut after a few tokens helps nobody, and clients that
// continue cut answers would pay for the prompt again and again.

/** The least maxTokens a fitted completion runs with. */
export const MIN_FITTED_MAX_TOKENS = 1024;

/** The maxTokens a completion runs with: what the upstream was sent, lowered when it was fitted. */
export function maxTokensOf(completion: Pick<Completion, 'request'>): number {
  return (completion.request as UpstreamRequest).maxTokens;
}

/**
 * How much more the account can reserve now: its balance minus what running
 * completions hold, and no more than the key's spend limit leaves. A read
 * without locks: the reservation statement re-checks every condition under
 * its row locks, so a value that is stale by then only makes that statement
 * refuse, never overdraw.
 */
async function headroomOf(db: Database, accountId: string, apiKeyId: string | null): Promise<bigint> {
  const result = await db.execute(sql`
    select (select balance - reserved from accounts where id = ${accountId})::text as account,
           (select spend_limit - spent - spend_reserved from api_keys where id = ${apiKeyId} and spend_limit is not null)::text as key`);
  const [row] = rowsOf<{ account: string | null; key: string | null }>(result);
  const account = BigInt(row?.account ?? 0);
  const key = row?.key ? BigInt(row.key) : undefined;
  return key !== undefined && key < account ? key : account;
}

/**
 * The largest maxTokens, up to the one asked for, whose worst case is within
 * `headroom`; undefined below the floor (or below what was asked for, when
 * that was less than the floor: such a request is never lowered).
 */
export function fittedMaxTokens(request: UpstreamRequest, prices: Pick<Prices, 'inputPricePerMillion' | 'outputPricePerMillion'>, headroom: bigint): number | undefined {
  const promptCost = worstCaseCost({ ...request, maxTokens: 0 }, prices);
  const perToken = prices.outputPricePerMillion / 1_000_000n;
  const affordable = perToken === 0n ? BigInt(request.maxTokens) : (headroom - promptCost) / perToken;
  const fitted = affordable < BigInt(request.maxTokens) ? Number(affordable) : request.maxTokens;
  return fitted >= leastFittedMaxTokens(request) ? fitted : undefined;
}

/**
 * The completion with maxTokens lowered to what the account can hold now,
 * and its reservation recomputed; undefined when even the floor does not fit.
 */
export async function fitToCredits(db: Database, completion: Completion, request: UpstreamRequest): Promise<{ completion: Completion; request: UpstreamRequest } | undefined> {
  const maxTokens = fittedMaxTokens(request, completion, await headroomOf(db, completion.accountId, completion.apiKeyId));
  if (maxTokens === undefined) return undefined;
  const fitted = { ...request, maxTokens };
  return { completion: { ...completion, request: fitted, reserved: worstCaseCost(fitted, completion) }, request: fitted };
}

/** What a completion of this prompt holds at least when fitted: its prompt plus MIN_FITTED_MAX_TOKENS. */
export function leastFittedReservation(request: UpstreamRequest, prices: Pick<Prices, 'inputPricePerMillion' | 'outputPricePerMillion'>): bigint {
  return worstCaseCost({ ...request, maxTokens: leastFittedMaxTokens(request) }, prices);
}

/** The least maxTokens a start may be lowered to: the floor, or what it asked for when that is less. */
export function leastFittedMaxTokens(request: UpstreamRequest): number {
  return Math.min(MIN_FITTED_MAX_TOKENS, request.maxTokens);
}
