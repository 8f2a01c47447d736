import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

// Tests use a real Redis: TEST_REDIS_URL, which the global set-up always
// sets (to a redis-server it started, unless given one). Each test file works
// under a key prefix of its own and removes its keys.
export const redisUrl = process.env.TEST_REDIS_URL ?? missingRedis();

function missingRedis(): never {
  throw new Error('TEST_REDIS_URL is not set: the global set-up (test/helpers/global-setup.ts) sets it; run the tests with npm test or vitest');
}

export function testKeyPrefix(): string {
  return `test-${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}
