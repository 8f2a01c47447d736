import type { BreakerChange } from './circuit-breaker.js';
import type { Completion, Settlement } from './completion-record.js';
import type { UpstreamErrorKind } from './upstream.js';

/**
 * Told when this process settles a completion, calls the upstream again,
 * or opens or closes a model's circuit breaker: metrics subscribe here, so
 * the domain knows nothing of them.
 */
export interface CompletionObserver {
  settled(completion: Completion, settlement: Settlement): void;
  /** A call to `model` failed before any output and the completion calls again: the same model after a wait, or its fallback. */
  upstreamRetried(model: string, kind: UpstreamErrorKind, next: 'retry' | 'fallback'): void;
  breakerChanged(upstreamModel: string, change: BreakerChange): void;
}
