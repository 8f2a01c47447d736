import type { Redis } from 'ioredis';
import type { RateLimiter, RateLimitHit, RateWindow } from '../domain/access/rate-limiter.js';

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

  async undo(keyId: string, hit: RateWindow): Promise<void> {
    const key = `${this.keyPrefix}ratelimit:${keyId}:${hit.resetsAt.getTime() / WINDOW_MS - 1}`;
    await this.redis.eval(GIVE_BACK, 2, key, `${key}:given-back`, hit.limit, WINDOW_MS);
  }
}

// Only a window that still exists (a DECR would make a key without expiry),
// and at most ARGV[1] times a window, counted beside it.
const GIVE_BACK = `
if redis.call('exists', KEYS[1]) == 0 or tonumber(redis.call('get', KEYS[1])) <= 0 then return 0 end
local given = redis.call('incr', KEYS[2])
redis.call('pexpire', KEYS[2], ARGV[2])
if given > tonumber(ARGV[1]) then return 0 end
return redis.call('decr', KEYS[1])`;
