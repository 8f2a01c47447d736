import type { Database } from '../../db/database.js';
import { assertAccountAccess, assertAdmin } from '../access/access-rules.js';
import type { Viewer } from '../access/viewer.js';
import type { BalanceFeed } from '../accounts/balance-feed.js';
import type { PageRequest } from '../pagination.js';
import { countLedger, grantCredits, listLedger, type GrantInput, type LedgerEntry } from './ledger.js';

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

  ledger(viewer: Viewer, accountId: string, page: PageRequest): Promise<LedgerEntry[]> {
    assertAccountAccess(viewer, accountId);
    return listLedger(this.db, accountId, page);
  }

  countLedger(viewer: Viewer, accountId: string): Promise<number> {
    assertAccountAccess(viewer, accountId);
    return countLedger(this.db, accountId);
  }
}
