import DataLoader from 'dataloader';
import type { Viewer } from '../../domain/access/viewer.js';
import type { ApiKey } from '../../domain/api-keys/api-key-record.js';
import type { Model } from '../../domain/catalogue/model-record.js';
import type { Completion } from '../../domain/completions/completion-record.js';
import type { Domain } from '../../domain/domain.js';

/**
 * Per-request loaders: a field that a list fans out to (each account's
 * keys, each ledger entry's completion) is read in one statement for the
 * whole list, so a page of 100 rows costs what a page of 2 does.
 */
export interface Loaders {
  /** A model by id, from the catalogue cache (no query on the hot path). */
  model: DataLoader<string, Model>;
  apiKeysOf: DataLoader<string, ApiKey[]>;
  completion: DataLoader<string, Completion | null>;
}

export function createLoaders(domain: Domain, viewer: Viewer): Loaders {
  return {
    model: new DataLoader((ids) => Promise.all(ids.map((id) => domain.catalogue.byId(id)))),
    apiKeysOf: new DataLoader((accountIds) => domain.apiKeys.listOf(viewer, accountIds)),
    completion: new DataLoader((ids) => domain.completions.findMany(viewer, ids)),
  };
}
