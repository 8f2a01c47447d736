import type { Database } from '../../db/database.js';
import { assertAccountAccess, assertAdmin } from '../access/access-rules.js';
import type { Viewer } from '../access/viewer.js';
import { BadInputError } from '../errors.js';
import { accountUsage, usageByAccount, usageRange, type AccountUsageRow, type UsageGrouping, type UsageRow } from './usage-report.js';

const MAX_OVERVIEW_ACCOUNTS = 1000;

/** Usage reports: an account's own (its keys or the admin), and the admin's overview of all. */
export class UsageService {
  constructor(private readonly db: Database) {}

  ofAccount(viewer: Viewer, accountId: string, range: { from?: Date | null; to?: Date | null }, groupBy: UsageGrouping[]): Promise<UsageRow[]> {
    assertAccountAccess(viewer, accountId);
    return accountUsage(this.db, accountId, usageRange(range.from, range.to), groupBy);
  }

  overview(viewer: Viewer, range: { from?: Date | null; to?: Date | null }, first: number): Promise<AccountUsageRow[]> {
    assertAdmin(viewer);
    if (!Number.isInteger(first) || first < 1 || first > MAX_OVERVIEW_ACCOUNTS) throw new BadInputError(['first'], `must be from 1 to ${MAX_OVERVIEW_ACCOUNTS}`);
    return usageByAccount(this.db, usageRange(range.from, range.to), first);
  }
}
