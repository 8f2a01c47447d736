import type { Redis } from 'ioredis';
import type { RateLimiter } from '../domain/access/rate-limiter.js';

const WINDOW_MS = 60_000;

/**
 * The fixed one-minute windows of InProcessRateLimiter, shared by every
 * instance: one INCR per request on a key that expires with its window.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async hit(keyId: string, perMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const key = `${this.keyPrefix}ratelimit:${keyId}:${window}`;
    const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, WINDOW_MS).exec()) as [[null, number]];
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - Date.now()) / 1000));
    return { allowed: count <= perMinute, retryAfterSeconds };
  }
}
