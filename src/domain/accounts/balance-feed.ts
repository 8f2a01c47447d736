/**
 * "This account's balance or reservation changed": published when credits
 * are granted, reserved or settled. The domain publishes and follows it;
 * realtime/ implements it in process or over Redis pub/sub, so that a grant
 * on one instance reaches a follower on another.
 */
export interface BalanceFeed {
  publish(accountId: string): void;
  /** Change notices for one account; listening starts with the first `next()`. */
  subscribe(accountId: string): AsyncIterable<unknown>;
}
