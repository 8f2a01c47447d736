import { Repeater } from '@repeaterjs/repeater';
import type { Database } from '../../db/database.js';
import { accountFor, assertAccountAccess, assertAdmin, assertSignedIn } from '../access/access-rules.js';
import type { GuardedStream, KeyWatch } from '../access/key-watch.js';
import type { Viewer } from '../access/viewer.js';
import { NotFoundError } from '../errors.js';
import { validateName } from '../names.js';
import type { PageRequest } from '../pagination.js';
import { countAccounts, findAccount, insertAccount, listAccounts, type Account } from './account-record.js';
import type { BalanceFeed } from './balance-feed.js';

/** Accounts: opened by the admin, read by the admin or by their own keys. */
export class AccountService {
  constructor(
    private readonly db: Database,
    private readonly balances: BalanceFeed,
    private readonly keyWatch: KeyWatch,
  ) {}

  create(viewer: Viewer, input: { name: string }): Promise<Account> {
    assertAdmin(viewer);
    return insertAccount(this.db, validateName(input.name, ['name']));
  }

  /** The account, or null when there is none; a key may only ask for its own. */
  async get(viewer: Viewer, id: string): Promise<Account | null> {
    assertAccountAccess(viewer, id);
    return (await findAccount(this.db, id)) ?? null;
  }

  /** The calling key's account; null for the admin, who has none. */
  async ofViewer(viewer: Viewer): Promise<Account | null> {
    assertSignedIn(viewer);
    return viewer.kind === 'apiKey' ? ((await findAccount(this.db, viewer.accountId)) ?? null) : null;
  }

  list(viewer: Viewer, page: PageRequest): Promise<Account[]> {
    assertAdmin(viewer);
    return listAccounts(this.db, page);
  }

  count(viewer: Viewer): Promise<number> {
    assertAdmin(viewer);
    return countAccounts(this.db);
  }

  /**
   * The account now, then again whenever its balance or reservation changes
   * (the admin names the account). A wrong id fails here, not in the
   * stream; a key's stream ends when the key is revoked (KeyWatch).
   */
  async followBalance(viewer: Viewer, accountId: string | null | undefined): Promise<GuardedStream<Account>> {
    const id = accountFor(viewer, accountId);
    if (!(await findAccount(this.db, id))) throw new NotFoundError(`no account ${id}`);
    return this.keyWatch.guard(viewer, balanceUpdates(this.balances.subscribe(id), () => findAccount(this.db, id)));
  }
}

/**
 * A burst of changes may arrive as one update; an update that changes
 * nothing visible is not sent.
 *
 * It listens before it reads, so that a change committed after the read is
 * still pushed. The feed attaches its listener only when the first value is
 * asked for, hence the `next()` before the read, kept pending and consumed
 * first. All of it happens inside the repeater: a follower that leaves before
 * its first value never starts it, and must leave no listener behind. Through
 * Redis the SUBSCRIBE is a round trip of its own that the read does not wait
 * for: a change published within that round trip can still be missed there.
 */
function balanceUpdates(changes: AsyncIterable<unknown>, read: () => Promise<Account | undefined>): AsyncIterable<Account> {
  return new Repeater<Account>(async (push, stop) => {
    const iterator = changes[Symbol.asyncIterator]();
    void stop.then(() => iterator.return?.());
    const firstChange = iterator.next();
    let last = await read();
    if (!last) {
      stop();
      return;
    }
    await push(last);
    for (let change = await firstChange; !change.done; change = await iterator.next()) {
      const next = await read();
      if (!next) break;
      if (next.balance !== last.balance || next.reserved !== last.reserved) await push(next);
      last = next;
    }
    stop();
  });
}
