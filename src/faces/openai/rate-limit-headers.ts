import { secondsUntilReset, type RateWindow } from '../../domain/access/rate-limiter.js';
import { rateLimitHeaders } from '../../http/rate-limit-headers.js';

/**
 * The generic x-ratelimit-* headers, and OpenAI's own names for a request
 * limit (`x-ratelimit-reset-requests` is a duration such as "12s"), which
 * OpenAI's SDKs and tools built on them read.
 */
export function openAIRateLimitHeaders(window: RateWindow | null | undefined, now = Date.now()): Record<string, string> {
  if (!window) return {};
  return {
    ...rateLimitHeaders(window, now),
    'x-ratelimit-limit-requests': String(window.limit),
    'x-ratelimit-remaining-requests': String(window.remaining),
    'x-ratelimit-reset-requests': `${secondsUntilReset(window, now)}s`,
  };
}
