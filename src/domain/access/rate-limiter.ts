/**
 * Requests per minute per API key, as fixed one-minute windows: simple and
 * O(1) per request. Implementations (in memory, or in Redis shared by every
 * instance) live in realtime/. A client may burst up to twice its limit
 * across a window boundary; that is the documented price of the simplicity.
 */
export interface RateLimiter {
  /** Counts one request against `perMinute`: whether it is within, and where the window stands after it. */
  hit(keyId: string, perMinute: number): Promise<RateLimitHit>;
  /**
   * Gives back a hit that started nothing, if its window is still the
   * current one, and at most `hit.limit` times a window: a refused start
   * still costs the gateway a reservation attempt, so a key that keeps
   * being refused is limited again at twice its rate.
   */
  undo(keyId: string, hit: RateWindow): Promise<void>;
}

/** Where a key stands in its current window: what REST faces report as x-ratelimit-* headers. */
export interface RateWindow {
  /** Starts the window allows (the key's requestsPerMinute). */
  limit: number;
  /** Starts left in the window after this one: 0 once refused. */
  remaining: number;
  /** When the window ends and counting starts again. */
  resetsAt: Date;
}

export interface RateLimitHit extends RateWindow {
  allowed: boolean;
}

/** Whole seconds until the window resets, at least 1: what retry-after and x-ratelimit-reset say. */
export function secondsUntilReset(window: RateWindow, now = Date.now()): number {
  return Math.max(1, Math.ceil((window.resetsAt.getTime() - now) / 1000));
}
