import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import type { Account } from './account-record.js';
import type { BalanceFeed } from './balance-feed.js';

interface Follower {
  push(account: Account): void;
  /** What it was last given: an update that changes nothing visible is not sent. */
  last: Account | undefined;
}

/**
 * The followers of one account on this instance, and the one reader of its
 * balance they share: a change costs one read however many follow it, and a
 * burst of changes (or of followers joining) costs one read more, not one
 * each.
 */
class AccountWatch {
  readonly followers = new Set<Follower>();
  private readonly changes: AsyncIterator<unknown>;
  private stale = false;
  private reading: Promise<void> | undefined;

  constructor(
    feed: BalanceFeed,
    accountId: string,
    private readonly read: () => Promise<Account | undefined>,
    private readonly onError: (error: unknown) => void,
  ) {
    this.changes = feed.subscribe(accountId)[Symbol.asyncIterator]();
  }

  /**
   * Listens before the first read, so that a change committed after it is
   * still seen: the feed attaches its listener on the first `next()`.
   * Through Redis the SUBSCRIBE is a round trip of its own that the read
   * does not wait for: a change published within it can still be missed.
   */
  listen(): void {
    const loop = async () => {
      for (let change = await this.changes.next(); !change.done; change = await this.changes.next()) this.refresh();
    };
    loop().catch(this.onError);
  }

  /** Reads the account once more (after any read under way) and offers it to every follower. */
  refresh(): void {
    this.stale = true;
    this.reading ??= this.readWhileStale().finally(() => (this.reading = undefined));
  }

  private async readWhileStale(): Promise<void> {
    while (this.stale) {
      this.stale = false;
      const account = await this.read().catch((error: unknown) => void this.onError(error));
      if (!account) continue;
      for (const follower of this.followers) {
        const { last } = follower;
        if (last && last.balance === account.balance && last.reserved === account.reserved) continue;
        follower.last = account;
        follower.push(account);
      }
    }
  }

  close(): void {
    void this.changes.return?.();
  }
}

/** Balance updates for followers on this instance, one shared reader per account. */
export class BalanceWatch {
  private readonly watches = new Map<string, AccountWatch>();

  constructor(
    private readonly feed: BalanceFeed,
    private readonly read: (accountId: string) => Promise<Account | undefined>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * The account now, then whenever its balance or reservation changes. A
   * follower that reads slowly gets the latest state, not every step.
   */
  follow(accountId: string): AsyncIterable<Account> {
    return new Repeater<Account>(async (push, stop) => {
      const follower: Follower = { push: (account) => void push(account), last: undefined };
      let watch = this.watches.get(accountId);
      if (!watch) {
        watch = new AccountWatch(this.feed, accountId, () => this.read(accountId), this.onError);
        this.watches.set(accountId, watch);
        watch.listen();
      }
      watch.followers.add(follower);
      // Its first value comes from a read made after it joined, shared with whoever joins meanwhile.
      watch.refresh();
      await stop;
      watch.followers.delete(follower);
      if (watch.followers.size === 0 && this.watches.get(accountId) === watch) {
        this.watches.delete(accountId);
        watch.close();
      }
    }, new SlidingBuffer(1));
  }
}
