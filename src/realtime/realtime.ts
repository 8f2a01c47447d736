import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { RateLimiter } from '../domain/access/rate-limiter.js';
import type { BalanceFeed } from '../domain/accounts/balance-feed.js';
import type { CompletionControl } from '../domain/completions/completion-control.js';
import type { CompletionEventLog } from '../domain/completions/event-log.js';
import type { Logger } from '../logger.js';
import { BalanceChanges } from './balance-changes.js';
import { InProcessEventLog } from './in-process-event-log.js';
import { InProcessRateLimiter } from './in-process-rate-limiter.js';
import { localCompletionControl } from './local-completion-control.js';
import { connectRedis } from './redis-client.js';
import { RedisCompletionControl } from './redis-completion-control.js';
import { RedisEventLog } from './redis-event-log.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

/** The domain's realtime ports, implemented for this deployment. */
export interface Realtime {
  events: CompletionEventLog;
  control: CompletionControl;
  rateLimiter: RateLimiter;
  balances: BalanceFeed;
  /** Whether instances share state (Redis): then a dead instance's completions are swept by heartbeat. */
  shared: boolean;
  /** Rejects while the shared store cannot be reached; resolves at once in process. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * In process for a lone instance; with REDIS_URL, events, cancels, rate
 * counters and balance changes go through Redis, so that any instance
 * streams, cancels and limits completions that run on any other.
 */
export async function openRealtime(config: Pick<Config, 'redisUrl' | 'redisKeyPrefix' | 'eventRetentionMs'>, logger: Logger): Promise<Realtime> {
  if (!config.redisUrl) {
    return {
      events: new InProcessEventLog(config.eventRetentionMs),
      control: localCompletionControl,
      rateLimiter: new InProcessRateLimiter(),
      balances: new BalanceChanges(),
      shared: false,
      ping: async () => {},
      close: async () => {},
    };
  }
  const redis = { url: config.redisUrl, keyPrefix: config.redisKeyPrefix, logger };
  const opened: Redis[] = [];
  const connect = async (name: string) => {
    const client = await connectRedis(redis.url, name, logger);
    opened.push(client);
    return client;
  };
  const events = await RedisEventLog.connect({ ...redis, retentionMs: config.eventRetentionMs });
  const control = await RedisCompletionControl.connect(redis);
  const rateLimiter = new RedisRateLimiter(await connect('rate-limit'), redis.keyPrefix);
  const balances = new BalanceChanges({ publish: await connect('balance-publish'), subscribe: await connect('balance-subscribe'), keyPrefix: redis.keyPrefix, logger });
  return {
    events,
    control,
    rateLimiter,
    balances,
    shared: true,
    ping: () => events.ping(),
    close: async () => {
      await events.close();
      await control.close();
      for (const client of opened) client.disconnect();
    },
  };
}
