import type { ReserveOutcome } from './completion-record.js';
import { UpstreamError, type UpstreamErrorKind } from './upstream.js';

// The milestones of one completion, as a trace records them. The domain
// calls this port; src/observability holds the OpenTelemetry side, so
// nothing here knows of spans. Only ids, model names, counts, statuses and
// money go through it, never a prompt, a key's secret or generated text:
// no implementation can record what it is never handed.

/** Who a completion is for and what it asks, as it is created. */
export interface TracedStart {
  completionId: string;
  accountId: string;
  /** null: started by the admin. */
  apiKeyId: string | null;
  /** The catalogue id asked for. */
  model: string;
  maxTokens: number;
}

/** What one reservation of a completion's worst case came to ('error': the statement failed). */
export type TracedReservation = ReserveOutcome['type'] | 'earlier' | 'error';

/** How one call to the upstream ended. */
export type TracedCall =
  | { type: 'answered' }
  | { type: 'failed'; kind: UpstreamErrorKind; httpStatus: number | null }
  /** Left by the run before the upstream answered anything. */
  | { type: 'left' };

/** How a completion ended, as settled: its status, usage and charge. */
export interface TracedSettlement {
  status: string;
  errorCode: string | null;
  /** Money units (see money.ts). */
  charge: bigint;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedPromptTokens: number | null;
  cacheWriteTokens: number | null;
  usageEstimated: boolean | null;
  answeredModelId: string | null;
  /** false: settled elsewhere first (the sweep, another instance); the values are the stored row's. */
  appliedHere: boolean;
}

/** A step with a duration: ended once, with what it came to. */
export interface TracedStep<Outcome> {
  ended(outcome: Outcome): void;
}

/** One completion's trace, from its creation to its settlement. */
export interface CompletionTrace {
  /** One reservation of `amount` (money units): a start that lowers maxTokens to fit tries a second. */
  reserving(amount: bigint): TracedStep<TracedReservation>;
  /** One call to the upstream; `attempt` counts from 1 per model, so a fallback starts at 1 again. */
  calling(attempt: number, model: string): TracedStep<TracedCall>;
  firstToken(): void;
  /** Ends the trace; 'unsettled': the settlement could not be written, and the overdue sweep ends the completion later. */
  settling(): TracedStep<TracedSettlement | 'unsettled'>;
  /** The start went no further than its reservation, refused with this error code. Ends the trace. */
  refused(code: string): void;
  /** An earlier start with the same idempotency key won the race: that one runs. Ends the trace. */
  answeredByEarlier(completionId: string): void;
}

export interface CompletionTracer {
  /** Opens a completion's trace, in whatever request or operation is current. */
  started(start: TracedStart): CompletionTrace;
}

/** What a call's failure is in a trace: kind and HTTP status, never its message. */
export function tracedFailure(error: unknown): TracedCall {
  if (!(error instanceof UpstreamError)) return { type: 'failed', kind: 'network', httpStatus: null };
  return { type: 'failed', kind: error.kind, httpStatus: error.status ?? null };
}

const noStep: TracedStep<unknown> = { ended: () => undefined };

/** The trace of a completion nobody records: shared, allocation-free. */
export const noCompletionTrace: CompletionTrace = {
  reserving: () => noStep,
  calling: () => noStep,
  firstToken: () => undefined,
  settling: () => noStep,
  refused: () => undefined,
  answeredByEarlier: () => undefined,
};

/** Tracing off. */
export const noCompletionTracer: CompletionTracer = { started: () => noCompletionTrace };
