import type { Database } from '../../db/database.js';
import { accountFor, assertAccountAccess, assertAdmin, assertSignedIn } from '../access/access-rules.js';
import type { GuardedStream, KeyWatch } from '../access/key-watch.js';
import type { Viewer } from '../access/viewer.js';
import { NotFoundError } from '../errors.js';
import { validateName } from '../names.js';
import type { PageRequest } from '../pagination.js';
import { countAccounts, findAccount, insertAccount, listAccounts, type Account } from './account-record.js';
import type { BalanceFeed } from './balance-feed.js';
import { BalanceWatch } from './balance-watch.js';

/** Accounts: opened by the admin, read by the admin or by their own keys. */
export class AccountService {
  private readonly balances: BalanceWatch;

  constructor(
    private readonly db: Database,
    feed: BalanceFeed,
    private readonly keyWatch: KeyWatch,
    onError: (error: unknown) => void,
  ) {
    this.balances = new BalanceWatch(feed, (id) => findAccount(this.db, id), onError);
  }

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
    return this.keyWatch.guard(viewer, this.balances.follow(id));
  }
}
