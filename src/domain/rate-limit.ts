/**
 * Requests per minute per API key, as fixed one-minute windows: simple and
 * O(1) per request. In memory a window starts at the key's first request; in
 * Redis windows are clock minutes (shared by every instance). A client may
 * burst up to twice its limit across a window boundary; that is the
 * documented price of the simplicity.
 */
export interface RateLimiter {
  /** Counts one request; says whether it is within `perMinute` and, if not, when to retry. */
  hit(keyId: string, perMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

const WINDOW_MS = 60_000;

export class InProcessRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  async hit(keyId: string, perMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const now = Date.now();
    let window = this.windows.get(keyId);
    if (!window || now - window.start >= WINDOW_MS) {
      // Expired windows are dropped lazily here rather than by a timer.
      if (this.windows.size > 100_000) this.sweep(now);
      window = { start: now, count: 0 };
      this.windows.set(keyId, window);
    }
    window.count += 1;
    const retryAfterSeconds = Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
    return { allowed: window.count <= perMinute, retryAfterSeconds };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(key);
  }
}
