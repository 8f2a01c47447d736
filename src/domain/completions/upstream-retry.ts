import { UpstreamError } from './upstream.js';

// When a failed upstream call is tried again, and after how long. Only a
// call that produced no output is ever retried (the run enforces that):
// nothing of it reached a subscriber or a bill, so a second call answers
// the same request as if the first had never been made. The gateway may
// still pay the upstream for the prompt of a call that failed; the
// customer never does.

export interface RetryPolicy {
  /** Calls per model, the first included (1: no retries). */
  maxAttempts: number;
  /** No wait may end later than this after the completion's first call. */
  budgetMs: number;
}

/**
 * A failure the next call may not repeat: the upstream said "not now" (429,
 * a 5xx) or the connection failed. A refused request (4xx), a malformed
 * answer or a timeout is not retried: the first two would fail again, and
 * a call that timed out may still be running upstream, and the first-byte
 * timeout alone is longer than the retry budget.
 */
export function isRetryable(error: unknown): error is UpstreamError {
  if (!(error instanceof UpstreamError)) return false;
  return error.kind === 'rate_limited' || error.kind === 'network' || (error.kind === 'http' && error.status !== undefined && error.status >= 500);
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 8_000;

/**
 * The wait before retry number `retry` (1 for the first): the upstream's
 * retry-after when it gave one and that is longer, else an exponential
 * backoff (250 ms, 500 ms, 1 s, … up to 8 s) with jitter of 50–100 %, so
 * that completions that failed together do not all come back together.
 */
export function retryDelayMs(error: UpstreamError, retry: number): number {
  const backoff = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1)) * (0.5 + Math.random() / 2);
  return Math.max((error.retryAfterSeconds ?? 0) * 1000, Math.round(backoff));
}

/** Resolves after `ms`, or rejects as the upstream client does when `signal` aborts first. */
export function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(new UpstreamError('aborted', 'The caller cancelled the upstream request.'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    if (signal.aborted) aborted();
    else signal.addEventListener('abort', aborted, { once: true });
  });
}
