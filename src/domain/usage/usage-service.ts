import type { Database } from '../../db/database.js';
import { assertAccountsAccess, assertAdmin } from '../access/access-rules.js';
import type { Viewer } from '../access/viewer.js';
import { BadInputError } from '../errors.js';
import { accountUsageOf, usageByAccount, usageRange, type AccountUsageRow, type UsageGrouping, type UsageRow } from './usage-report.js';

const MAX_OVERVIEW_ACCOUNTS = 1000;

/** A range as asked for; see usageRange for the defaults. */
export interface UsageRangeInput {
  from?: Date | null;
  to?: Date | null;
}

/** Usage reports: an account's own (its keys or the admin), and the admin's overview of all. */
export class UsageService {
  constructor(private readonly db: Database) {}

  /** Each account's usage in a range: one statement for all the accounts. */
  ofAccounts(viewer: Viewer, accountIds: readonly string[], range: UsageRangeInput, groupBy: UsageGrouping[]): Promise<UsageRow[][]> {
    assertAccountsAccess(viewer, accountIds);
    return accountUsageOf(this.db, accountIds, usageRange(range.from, range.to), groupBy);
  }

  overview(viewer: Viewer, range: UsageRangeInput, first: number): Promise<AccountUsageRow[]> {
    assertAdmin(viewer);
    if (!Number.isInteger(first) || first < 1 || first > MAX_OVERVIEW_ACCOUNTS) throw new BadInputError(['first'], `must be from 1 to ${MAX_OVERVIEW_ACCOUNTS}`);
    return usageByAccount(this.db, usageRange(range.from, range.to), first);
  }
}
