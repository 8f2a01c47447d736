import type { Database } from '../../db/database.js';
import { assertAccountsAccess, assertAdmin } from '../access/access-rules.js';
import type { Viewer } from '../access/viewer.js';
import type { BalanceFeed } from '../accounts/balance-feed.js';
import type { PageRequest } from '../pagination.js';
import { countLedgerOf, grantCredits, listLedgerOf, type GrantInput, type LedgerEntry } from './ledger.js';

/** Credits: granted by the admin, read through the ledger by the account's keys. */
export class CreditService {
  constructor(
    private readonly db: Database,
    private readonly balances: BalanceFeed,
  ) {}

  async grant(viewer: Viewer, input: GrantInput): Promise<LedgerEntry> {
    assertAdmin(viewer);
    const entry = await grantCredits(this.db, input);
    this.balances.publish(entry.accountId);
    return entry;
  }

  /** A page of each account's ledger, newest first: one statement for all. */
  ledgerOf(viewer: Viewer, accountIds: readonly string[], page: PageRequest): Promise<LedgerEntry[][]> {
    assertAccountsAccess(viewer, accountIds);
    return listLedgerOf(this.db, accountIds, page);
  }

  countLedgerOf(viewer: Viewer, accountIds: readonly string[]): Promise<number[]> {
    assertAccountsAccess(viewer, accountIds);
    return countLedgerOf(this.db, accountIds);
  }
}
