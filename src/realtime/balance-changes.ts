import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { BalanceFeed } from '../domain/accounts/balance-feed.js';

type Topics = { 'account-balance': [accountId: string, payload: true] };

/**
 * The balance feed: in process by default; through Redis pub/sub when
 * instances share Redis, so a grant on one instance reaches a follower on
 * another.
 */
export class BalanceChanges implements BalanceFeed {
  private readonly pubsub: PubSub<Topics>;
  private readonly keyPrefix: string;

  /** `keyPrefix` scopes the channels, so deployments sharing one Redis stay apart. */
  constructor(redis?: { publish: Redis; subscribe: Redis; keyPrefix: string }) {
    this.keyPrefix = redis?.keyPrefix ?? '';
    this.pubsub = createPubSub<Topics>(
      redis ? { eventTarget: createRedisEventTarget({ publishClient: redis.publish, subscribeClient: redis.subscribe }) } : {},
    );
  }

  publish(accountId: string): void {
    this.pubsub.publish('account-balance', this.channelOf(accountId), true);
  }

  subscribe(accountId: string): AsyncIterable<true> {
    return this.pubsub.subscribe('account-balance', this.channelOf(accountId));
  }

  private channelOf(accountId: string): string {
    return `${this.keyPrefix}${accountId}`;
  }
}
