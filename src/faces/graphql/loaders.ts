import DataLoader from 'dataloader';
import type { Viewer } from '../../domain/access/viewer.js';
import type { ApiKey } from '../../domain/api-keys/api-key-record.js';
import type { Model } from '../../domain/catalogue/model.js';
import type { Completion } from '../../domain/completions/completion-record.js';
import type { LedgerEntry } from '../../domain/credits/ledger.js';
import type { Domain } from '../../domain/domain.js';
import type { PageRequest } from '../../domain/pagination.js';
import type { UsageGrouping, UsageRow } from '../../domain/usage/usage-report.js';
import type { UsageRangeInput } from '../../domain/usage/usage-service.js';

/**
 * Per-request loaders: a field that a list fans out to (each account's
 * keys, ledger, completions and usage, each ledger entry's completion) is
 * read in one statement for the whole list, so a page of 100 rows costs what
 * a page of 2 does. Fields with arguments get one loader per set of
 * arguments: the rows of a list all ask with the same ones.
 */
export interface Loaders {
  /** A model by id, from the catalogue cache (no query on the hot path). */
  model: DataLoader<string, Model>;
  apiKeysOf: DataLoader<string, ApiKey[]>;
  completion: DataLoader<string, Completion | null>;
  ledgerOf(page: PageRequest): DataLoader<string, LedgerEntry[]>;
  ledgerCount: DataLoader<string, number>;
  completionsOf(page: PageRequest): DataLoader<string, Completion[]>;
  completionCount: DataLoader<string, number>;
  usageOf(range: UsageRangeInput, groupBy: UsageGrouping[]): DataLoader<string, UsageRow[]>;
}

/** A loader per distinct set of arguments, made when first asked for. */
function perArguments<A extends unknown[], V>(batch: (keys: readonly string[], ...args: A) => Promise<V[]>): (...args: A) => DataLoader<string, V> {
  const loaders = new Map<string, DataLoader<string, V>>();
  return (...args) => {
    const key = JSON.stringify(args);
    let loader = loaders.get(key);
    if (!loader) loaders.set(key, (loader = new DataLoader(async (keys) => batch(keys, ...args))));
    return loader;
  };
}

// Batch functions are async so that a domain error thrown before any await
// rejects the loads it batches (DataLoader refuses a synchronous throw).
export function createLoaders(domain: Domain, viewer: Viewer): Loaders {
  return {
    model: new DataLoader(async (ids) => Promise.all(ids.map((id) => domain.catalogue.byId(id)))),
    apiKeysOf: new DataLoader(async (accountIds) => domain.apiKeys.listOf(viewer, accountIds)),
    completion: new DataLoader(async (ids) => domain.completions.findMany(viewer, ids)),
    ledgerOf: perArguments((accountIds, page: PageRequest) => domain.credits.ledgerOf(viewer, accountIds, page)),
    ledgerCount: new DataLoader(async (accountIds) => domain.credits.countLedgerOf(viewer, accountIds)),
    completionsOf: perArguments((accountIds, page: PageRequest) => domain.completions.listOf(viewer, accountIds, page)),
    completionCount: new DataLoader(async (accountIds) => domain.completions.countOf(viewer, accountIds)),
    usageOf: perArguments((accountIds, range: UsageRangeInput, groupBy: UsageGrouping[]) => domain.usage.ofAccounts(viewer, accountIds, range, groupBy)),
  };
}
