import { secondsUntilReset, type RateWindow } from '../domain/access/rate-limiter.js';

/**
 * The generic rate-limit headers every REST face sends for a key with
 * requestsPerMinute: the limit, the starts left in the current window, and
 * the whole seconds until it resets (a delay, as retry-after, not a
 * timestamp). None for a key without the limit.
 */
export function rateLimitHeaders(window: RateWindow | null | undefined, now = Date.now()): Record<string, string> {
  if (!window) return {};
  return {
    'x-ratelimit-limit': String(window.limit),
    'x-ratelimit-remaining': String(window.remaining),
    'x-ratelimit-reset': String(secondsUntilReset(window, now)),
  };
}
