import type { Database } from '../../db/database.js';
import { assertAdmin } from '../access/access-rules.js';
import type { Viewer } from '../access/viewer.js';
import type { CatalogueCache } from './catalogue-cache.js';
import type { Model } from './model.js';
import { findModel, listModels, updateModel, type ModelChanges } from './model-record.js';

/**
 * The model catalogue. Anyone may read it; only the admin changes it, and a
 * change is seen by this instance's cache at once (others within its TTL).
 */
export class CatalogueService {
  constructor(
    private readonly db: Database,
    private readonly cache: CatalogueCache,
  ) {}

  /** Every model, disabled ones included, as stored now. */
  list(): Promise<Model[]> {
    return listModels(this.db);
  }

  /** A model by id or alias, as stored now; undefined when there is none. */
  find(idOrAlias: string): Promise<Model | undefined> {
    return findModel(this.db, idOrAlias);
  }

  /** The catalogue as the hot paths read it: from the cache. */
  cached(): Promise<Model[]> {
    return this.cache.models();
  }

  /** The model a stored row refers to, from the cache. */
  async byId(id: string): Promise<Model> {
    const model = await this.cache.find(id);
    if (!model) throw new Error(`a stored row refers to a missing model ${id}`);
    return model;
  }

  async update(viewer: Viewer, idOrAlias: string, changes: ModelChanges): Promise<Model> {
    assertAdmin(viewer);
    const model = await updateModel(this.db, idOrAlias, changes);
    this.cache.invalidate();
    return model;
  }
}
