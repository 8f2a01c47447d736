import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * A connected ioredis client named `name` (visible in CLIENT LIST). It fails
 * at once when Redis cannot be reached at start, instead of retrying in the
 * background behind a server that looks healthy; once connected, ioredis
 * reconnects by itself and each failure is logged. The URL is never logged:
 * it may hold a password.
 */
export async function connectRedis(url: string, name: string, logger: Logger, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { connectionName: name, lazyConnect: true, ...options });
  client.on('error', (error: Error) => logger.warn({ err: error, connection: name }, 'redis connection error'));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`could not connect to Redis (REDIS_URL) for ${name}: ${(error as Error).message}`, { cause: error });
  }
  return client;
}
