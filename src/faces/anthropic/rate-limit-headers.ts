import type { RateWindow } from '../../domain/access/rate-limiter.js';
import { rateLimitHeaders } from '../../http/rate-limit-headers.js';

/**
 * The generic x-ratelimit-* headers, and Anthropic's own names for a
 * request limit (`anthropic-ratelimit-requests-reset` is an RFC 3339 time),
 * which Anthropic's SDKs expose and Claude Code reads.
 */
export function anthropicRateLimitHeaders(window: RateWindow | null | undefined, now = Date.now()): Record<string, string> {
  if (!window) return {};
  return {
    ...rateLimitHeaders(window, now),
    'anthropic-ratelimit-requests-limit': String(window.limit),
    'anthropic-ratelimit-requests-remaining': String(window.remaining),
    'anthropic-ratelimit-requests-reset': window.resetsAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}
