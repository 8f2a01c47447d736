import { asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { modelTable } from '../../db/tables.js';
import { BadInputError, modelsListing, NotFoundError, say } from '../errors.js';
import { assertPricePerMillion } from '../money.js';
import { validateFallback } from './fallback-model.js';
import type { Model } from './model.js';
import { modelNamed, validateAliases } from './model-names.js';

/**
 * Every model, in catalogue order. A real promise, run once: a drizzle query
 * is a thenable that runs its statement again on every `await`, so a cached
 * query (the catalogue cache keeps what this returns) would be no cache at all.
 */
export async function listModels(db: Database): Promise<Model[]> {
  return await db.select().from(modelTable).orderBy(asc(modelTable.sortOrder), asc(modelTable.id));
}

/**
 * The model a name refers to (see model-names.ts); undefined when there is
 * none. The catalogue is a few rows, so it is read whole and searched here,
 * by the same rule as the cached copy.
 */
export async function findModel(db: Database, name: string): Promise<Model | undefined> {
  return modelNamed(await listModels(db), name);
}

export interface ModelChanges {
  inputPricePerMillion?: bigint;
  outputPricePerMillion?: bigint;
  cacheReadPricePerMillion?: bigint;
  cacheWritePricePerMillion?: bigint;
  enabled?: boolean;
  recommended?: boolean;
  description?: string | null;
  maxOutputTokens?: number;
  aliases?: string[];
  /** A model's id or alias; null removes the fallback. */
  fallbackModel?: string | null;
}

/** Applies an admin's changes to one model; prices, aliases and the fallback are validated first. */
export async function updateModel(db: Database, idOrAlias: string, changes: ModelChanges): Promise<Model> {
  const set: Partial<typeof modelTable.$inferInsert> = {};
  if (changes.inputPricePerMillion !== undefined) {
    set.inputPricePerMillion = assertPricePerMillion(changes.inputPricePerMillion, ['inputPricePerMillion']);
  }
  if (changes.outputPricePerMillion !== undefined) {
    set.outputPricePerMillion = assertPricePerMillion(changes.outputPricePerMillion, ['outputPricePerMillion']);
  }
  if (changes.cacheReadPricePerMillion !== undefined) {
    set.cacheReadPricePerMillion = assertPricePerMillion(changes.cacheReadPricePerMillion, ['cacheReadPricePerMillion']);
  }
  if (changes.cacheWritePricePerMillion !== undefined) {
    set.cacheWritePricePerMillion = assertPricePerMillion(changes.cacheWritePricePerMillion, ['cacheWritePricePerMillion']);
  }
  if (changes.maxOutputTokens !== undefined) {
    if (!Number.isInteger(changes.maxOutputTokens) || changes.maxOutputTokens < 1 || changes.maxOutputTokens > 1_000_000) {
      throw new BadInputError(['maxOutputTokens'], 'must be an integer from 1 to 1000000');
    }
    set.maxOutputTokens = changes.maxOutputTokens;
  }
  if (changes.enabled !== undefined) set.enabled = changes.enabled;
  if (changes.recommended !== undefined) set.recommended = changes.recommended;
  if (changes.description !== undefined) set.description = changes.description;

  if (changes.aliases === undefined && changes.fallbackModel === undefined) {
    const model = await findModel(db, idOrAlias);
    if (!model) throw noModel(idOrAlias);
    return Object.keys(set).length === 0 ? model : write(db, model, set);
  }
  const { aliases, fallbackModel } = changes;
  // Every row is locked while the aliases and the fallback are checked
  // against the others, so two admins' concurrent edits cannot give one
  // name to two models, or make fallbacks a cycle.
  return db.transaction(async (tx) => {
    const models = await tx.select().from(modelTable).orderBy(asc(modelTable.id)).for('update');
    const model = modelNamed(models, idOrAlias);
    if (!model) throw noModel(idOrAlias);
    if (aliases !== undefined) set.aliases = validateAliases(aliases, model, models);
    if (fallbackModel !== undefined) set.fallbackModelId = validateFallback(fallbackModel, { ...model, ...set }, models);
    return write(tx, model, set);
  });
}

const noModel = (name: string) => new NotFoundError(say`no model ${JSON.stringify(name)}; ${modelsListing} lists them`);

async function write(db: Database, model: Model, set: Partial<typeof modelTable.$inferInsert>): Promise<Model> {
  const [updated] = await db
    .update(modelTable)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(modelTable.id, model.id))
    .returning();
  return updated ?? model;
}
