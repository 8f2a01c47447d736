import { asc, eq, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { modelTable } from '../../db/tables.js';
import { BadInputError, modelsListing, NotFoundError, say } from '../errors.js';
import { assertPricePerMillion } from '../money.js';

export type Model = typeof modelTable.$inferSelect;

export function listModels(db: Database): Promise<Model[]> {
  return db.select().from(modelTable).orderBy(asc(modelTable.sortOrder), asc(modelTable.id));
}

/** A model by its id or one of its aliases; undefined when there is none. */
export async function findModel(db: Database, idOrAlias: string): Promise<Model | undefined> {
  const [model] = await db
    .select()
    .from(modelTable)
    .where(or(eq(modelTable.id, idOrAlias), sql`${idOrAlias} = any(${modelTable.aliases})`))
    .limit(1);
  return model;
}

/** The model an id or alias names, in a list of models. */
export function modelNamed(models: Model[], idOrAlias: string): Model | undefined {
  return models.find((m) => m.id === idOrAlias || m.aliases.includes(idOrAlias));
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
}

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

  const model = await findModel(db, idOrAlias);
  if (!model) throw new NotFoundError(say`no model ${JSON.stringify(idOrAlias)}; ${modelsListing} lists them`);
  if (Object.keys(set).length === 0) return model;
  const [updated] = await db
    .update(modelTable)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(modelTable.id, model.id))
    .returning();
  return updated ?? model;
}
