import type { RateLimiter, RateLimitHit, RateWindow } from '../domain/access/rate-limiter.js';

const WINDOW_MS = 60_000;

/** The rate limiter of a lone instance: a window starts at the key's first request. */
export class InProcessRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number; givenBack: number }>();

  async hit(keyId: string, perMinute: number): Promise<RateLimitHit> {
    const now = Date.now();
    let window = this.windows.get(keyId);
    if (!window || now - window.start >= WINDOW_MS) {
      // Expired windows are dropped lazily here rather than by a timer.
      if (this.windows.size > 100_000) this.sweep(now);
      window = { start: now, count: 0, givenBack: 0 };
      this.windows.set(keyId, window);
    }
    window.count += 1;
    return { allowed: window.count <= perMinute, limit: perMinute, remaining: Math.max(0, perMinute - window.count), resetsAt: new Date(window.start + WINDOW_MS) };
  }

  async undo(keyId: string, hit: RateWindow): Promise<void> {
    const window = this.windows.get(keyId);
    if (!window || window.start + WINDOW_MS !== hit.resetsAt.getTime() || window.count === 0 || window.givenBack >= hit.limit) return;
    window.count -= 1;
    window.givenBack += 1;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(key);
  }
}
