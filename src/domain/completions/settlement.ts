import { cleanText } from '../storable-text.js';
import type { Settlement } from './completion-record.js';
import type { LiveCompletion } from './live-completion.js';
import { costOfUsage, type UsageCounts } from './prompt-cache-pricing.js';
import { estimatedOutputTokens, estimatedPromptTokens, fewestPromptTokens } from './token-estimates.js';
import type { UpstreamError, UpstreamUsage } from './upstream.js';

/**
 * Why a run stopped before the upstream finished: a cancel, a shutdown past
 * its deadline, the completion's own time bound, or its row ended elsewhere
 * (then nothing of this run is written: the stored row is the truth).
 */
export type StopReason = 'cancel' | 'shutdown' | 'duration' | 'lost';

/** How a run ended, as settlementOf needs it. */
export interface RunEnding {
  /** Set when the upstream call failed (including the aborts that stops cause). */
  failure: UpstreamError | undefined;
  stop: StopReason | undefined;
  /** The run's time bound, for the message of a completion that hit it. */
  maxDurationMs: number;
}

/** Error messages are stored whole up to this (they may quote the upstream). */
const MAX_ERROR_MESSAGE = 1000;

/**
 * What a run ends as, and what it costs.
 *
 * Invariant: the charge is between zero and the reservation (see capped),
 * nothing is charged for a completion that failed before generating
 * anything, and nothing generated is free: a completion that delivered
 * output is charged for it, from the upstream's usage or, without one, from
 * the documented estimate (marked usageEstimated), and never for fewer
 * tokens than it surely sent (see fewestOutputTokens). It is charged at the
 * prices of the model that answered: the requested one's, or its
 * fallback's, which are never higher (see catalogue/fallback-model.ts), so
 * the reservation made at the requested model's prices covers it.
 */
export function settlementOf(live: LiveCompletion, ending: RunEnding, onCapped: (cost: bigint) => void): Settlement {
  const { completion, request } = live;
  const base = {
    content: live.content,
    toolCalls: live.toolCalls.result(),
    eventLog: live.storedLog,
    finishReason: live.finishReason,
    firstTokenAt: live.firstTokenAt,
    finishedAt: new Date(),
    answeredModelId: live.answered ? live.modelId : null,
    inputPricePerMillion: completion.inputPricePerMillion,
    outputPricePerMillion: completion.outputPricePerMillion,
    cacheReadPricePerMillion: completion.cacheReadPricePerMillion,
    cacheWritePricePerMillion: completion.cacheWritePricePerMillion,
    errorRetryAfterSeconds: null,
  };
  // An estimate knows nothing of the upstream's prompt cache.
  const estimated = (completionTokens: number): UsageCounts => ({ promptTokens: estimatedPromptTokens(request), completionTokens, cachedPromptTokens: 0, cacheWriteTokens: 0 });
  const charged = (usage: UsageCounts, estimated: boolean) => ({
    ...usage,
    usageEstimated: estimated,
    charge: capped(costOfUsage(usage, completion), completion.reserved, onCapped),
  });
  // Reported usage below what was surely sent (an upstream that reports
  // zero, say) is raised to that lower bound and marked estimated: output
  // delivered is never free.
  const reported = (usage: UpstreamUsage, fewestCompletionTokens: number) => {
    const promptTokens = Math.max(usage.promptTokens, fewestPromptTokens(request));
    const completionTokens = Math.max(usage.completionTokens, fewestCompletionTokens);
    const raised = promptTokens !== usage.promptTokens || completionTokens !== usage.completionTokens;
    return charged({ ...usage, promptTokens, completionTokens }, raised);
  };
  // The estimate lies between what was surely sent and maxTokens, past which the run is cut.
  const estimatedOutput = () => Math.min(Math.max(estimatedOutputTokens(live.outputBytes), live.fewestOutputTokens), request.maxTokens);
  const generated = () => (live.usage ? reported(live.usage, live.fewestOutputTokens) : charged(estimated(estimatedOutput()), true));
  const { failure, stop } = ending;

  if (live.cutAtMaxTokens) {
    // The upstream went past maxTokens: cut there, as if it had stopped for
    // length. Its output reached maxTokens by a lower bound, so charging
    // maxTokens never charges more than it generated.
    const usage = live.usage ? reported(live.usage, request.maxTokens) : charged(estimated(request.maxTokens), true);
    return { ...base, status: 'SUCCEEDED', finishReason: 'length', ...usage, errorCode: null, errorMessage: null };
  }
  if (!failure) return { ...base, status: 'SUCCEEDED', ...generated(), errorCode: null, errorMessage: null };
  if (stop === 'duration' && live.hasOutput) {
    return { ...base, status: 'SUCCEEDED', finishReason: 'length', ...generated(), errorCode: null, errorMessage: null };
  }
  if (stop === 'cancel' || stop === 'shutdown') {
    // Cancelled by the caller, or by a shutdown past its deadline: what was
    // generated before is charged; a cancel before the first token costs nothing.
    const [errorCode, errorMessage] =
      stop === 'cancel'
        ? ['CANCELLED', 'cancelled by the caller']
        : ['SHUTDOWN', 'the server shut down before this completion finished; charged for what was generated'];
    const usage = generated();
    return { ...base, status: 'CANCELLED', ...usage, charge: live.hasOutput ? usage.charge : 0n, errorCode, errorMessage };
  }
  const [errorCode, errorMessage] =
    stop === 'duration'
      ? ['UPSTREAM_TIMEOUT', `the upstream sent nothing within the completion's time bound (${ending.maxDurationMs} ms)`]
      : [`UPSTREAM_${(failure as UpstreamError).kind.toUpperCase()}`, (failure as UpstreamError).message];
  return {
    ...base,
    status: 'FAILED',
    promptTokens: null,
    completionTokens: null,
    cachedPromptTokens: null,
    cacheWriteTokens: null,
    usageEstimated: null,
    charge: 0n,
    errorCode,
    errorMessage: cleanText(errorMessage).slice(0, MAX_ERROR_MESSAGE),
    // Kept for the faces, which pass it on (REST 429 retry-after, GraphQL error.retryAfter).
    errorRetryAfterSeconds: stop === undefined && failure?.kind === 'rate_limited' ? (failure.retryAfterSeconds ?? null) : null,
  };
}

/**
 * The same settlement without the answer's text, for when Postgres refuses
 * the text (an upstream's bytes it cannot store): status, usage and charge
 * are kept, and the completion says its text was not stored.
 */
export function withoutText(settlement: Settlement): Settlement {
  return {
    ...settlement,
    content: '',
    toolCalls: null,
    eventLog: { deltas: [] },
    errorCode: settlement.errorCode ?? 'CONTENT_NOT_STORED',
    errorMessage: settlement.errorMessage ?? 'the answer was delivered but could not be stored; usage and charge are kept',
  };
}

/** The charge never exceeds the reservation; a larger real cost is reported and absorbed. */
function capped(cost: bigint, reserved: bigint, onCapped: (cost: bigint) => void): bigint {
  if (cost <= reserved) return cost;
  onCapped(cost);
  return reserved;
}
