/**
 * Requests per minute per API key, as fixed one-minute windows: simple and
 * O(1) per request. Implementations (in memory, or in Redis shared by every
 * instance) live in realtime/. A client may burst up to twice its limit
 * across a window boundary; that is the documented price of the simplicity.
 */
export interface RateLimiter {
  /** Counts one request; says whether it is within `perMinute` and, if not, when to retry. */
  hit(keyId: string, perMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}
