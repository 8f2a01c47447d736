import type { Database } from '../../db/database.js';
import { modelNamed } from './model-names.js';
import type { Model } from './model.js';
import { listModels } from './model-record.js';

/**
 * The catalogue as the completion path reads it: ten rows, read from Postgres
 * at most once per `ttlMs` instead of once per request. This instance sees
 * its own admin changes at once; other instances within `ttlMs`.
 */
export class CatalogueCache {
  private loaded: { at: number; models: Promise<Model[]> } | undefined;

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 5_000,
  ) {}

  models(): Promise<Model[]> {
    if (!this.loaded || Date.now() - this.loaded.at > this.ttlMs) {
      const models = listModels(this.db);
      this.loaded = { at: Date.now(), models };
      models.catch(() => (this.loaded = undefined));
    }
    return this.loaded.models;
  }

  async find(idOrAlias: string): Promise<Model | undefined> {
    return modelNamed(await this.models(), idOrAlias);
  }

  invalidate(): void {
    this.loaded = undefined;
  }
}

