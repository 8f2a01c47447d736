import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import type { Redis } from 'ioredis';
import type { BalanceFeed } from '../domain/accounts/balance-feed.js';
import type { Logger } from '../logger.js';

/** Carries notices between instances: Redis pub/sub, or nothing for a lone instance. */
interface Carrier {
  publish(channel: string): void;
  listen(channel: string): void;
  stopListening(channel: string): void;
}

/**
 * The balance feed. Notices are fanned out to this instance's listeners
 * here; with Redis, published on a channel per account, so that a grant on
 * one instance reaches a follower on another. A notice says only "changed"
 * (followers read the account), so listeners keep at most one pending.
 * Redis failures are logged, never thrown: a notice lost in an outage
 * delays an update, it cannot break a stream or the process.
 */
export class BalanceChanges implements BalanceFeed {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly carrier: Carrier;

  /** `keyPrefix` scopes the channels, so deployments sharing one Redis stay apart. */
  constructor(
    redis?: { publish: Redis; subscribe: Redis; keyPrefix: string; logger: Logger },
  ) {
    this.carrier = redis ? redisCarrier(redis, (channel) => this.deliver(channel)) : localCarrier((channel) => this.deliver(channel));
  }

  publish(accountId: string): void {
    this.carrier.publish(accountId);
  }

  subscribe(accountId: string): AsyncIterable<true> {
    return new Repeater<true>(async (push, stop) => {
      const notify = () => void push(true);
      let listening = this.listeners.get(accountId);
      if (!listening) {
        this.listeners.set(accountId, (listening = new Set()));
        this.carrier.listen(accountId);
      }
      listening.add(notify);
      await stop;
      listening.delete(notify);
      if (listening.size === 0 && this.listeners.get(accountId) === listening) {
        this.listeners.delete(accountId);
        this.carrier.stopListening(accountId);
      }
    }, new SlidingBuffer(1));
  }

  private deliver(accountId: string): void {
    for (const notify of this.listeners.get(accountId) ?? []) notify();
  }
}

function localCarrier(deliver: (accountId: string) => void): Carrier {
  return { publish: deliver, listen: () => undefined, stopListening: () => undefined };
}

function redisCarrier(redis: { publish: Redis; subscribe: Redis; keyPrefix: string; logger: Logger }, deliver: (accountId: string) => void): Carrier {
  const prefix = `${redis.keyPrefix}balance:`;
  const failed = (what: string) => (error: unknown) => redis.logger.warn({ err: error }, `could not ${what} a balance change channel in Redis`);
  redis.subscribe.on('message', (channel: string) => {
    if (channel.startsWith(prefix)) deliver(channel.slice(prefix.length));
  });
  return {
    publish: (accountId) => void redis.publish.publish(`${prefix}${accountId}`, '1').catch(failed('publish on')),
    // ioredis subscribes again by itself after a reconnect.
    listen: (accountId) => void redis.subscribe.subscribe(`${prefix}${accountId}`).catch(failed('subscribe to')),
    stopListening: (accountId) => void redis.subscribe.unsubscribe(`${prefix}${accountId}`).catch(failed('unsubscribe from')),
  };
}
