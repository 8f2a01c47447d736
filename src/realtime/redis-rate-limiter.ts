import type { Redis } from 'ioredis';
import type { RateLimiter, RateLimitHit } from '../domain/access/rate-limiter.js';

const WINDOW_MS = 60_000;

/**
 * The fixed one-minute windows of InProcessRateLimiter, shared by every
 * instance: one INCR per request on a key that expires with its window.
 * Windows are clock minutes, so every instance agrees on when one resets.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async hit(keyId: string, perMinute: number): Promise<RateLimitHit> {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const key = `${this.keyPrefix}ratelimit:${keyId}:${window}`;
    const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, WINDOW_MS).exec()) as [[null, number]];
    return { allowed: count <= perMinute, limit: perMinute, remaining: Math.max(0, perMinute - count), resetsAt: new Date((window + 1) * WINDOW_MS) };
  }
}
