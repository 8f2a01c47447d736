import { asc, eq, or, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { modelTable } from '../db/tables.js';
import { BadInputError, NotFoundError } from './errors.js';
import { assertPricePerMillion, parseMoney } from './money.js';

export type Model = typeof modelTable.$inferSelect;

interface SeedModel {
  id: string;
  name: string;
  input: string;
  output: string;
  maxOutputTokens: number;
  description: string;
  recommended?: boolean;
}

// The pricing table of upstream-tokenhub.md (USD per million tokens). The
// output limits are Anthropic's published maxima; admins can lower them.
const seedModels: SeedModel[] = [
  { id: 'anthropic/claude-opus-4-7', name: 'Opus 4.7', input: '5.00', output: '25.00', maxOutputTokens: 128_000, description: 'Newest, highest-quality reasoning and code.' },
  { id: 'anthropic/claude-opus-4-6', name: 'Opus 4.6', input: '5.00', output: '25.00', maxOutputTokens: 128_000, description: 'Highest-quality reasoning and code.' },
  { id: 'anthropic/claude-sonnet-4-6', name: 'Sonnet 4.6', input: '3.00', output: '15.00', maxOutputTokens: 64_000, description: 'Flagship balance of quality and cost; the recommended default.', recommended: true },
  { id: 'anthropic/claude-haiku-4-5', name: 'Haiku 4.5', input: '1.00', output: '5.00', maxOutputTokens: 64_000, description: 'Fastest and cheapest of the 4th generation; high QPS, classification.' },
  { id: 'anthropic/claude-sonnet-4-5', name: 'Sonnet 4.5', input: '3.00', output: '15.00', maxOutputTokens: 64_000, description: 'Previous-generation workhorse.' },
  { id: 'anthropic/claude-opus-4-5', name: 'Opus 4.5', input: '5.00', output: '25.00', maxOutputTokens: 64_000, description: 'Highest-quality reasoning and code.' },
  { id: 'anthropic/claude-4-sonnet', name: 'Sonnet 4', input: '3.00', output: '15.00', maxOutputTokens: 64_000, description: 'Previous-generation workhorse.' },
  { id: 'anthropic/claude-4-opus', name: 'Opus 4', input: '15.00', output: '75.00', maxOutputTokens: 32_000, description: 'Highest-quality reasoning and code.' },
  { id: 'anthropic/claude-3-5-sonnet-latest', name: '3.5 Sonnet', input: '3.00', output: '15.00', maxOutputTokens: 8_192, description: 'Stable, production-proven, broad compatibility.' },
  { id: 'anthropic/claude-3-5-haiku-latest', name: '3.5 Haiku', input: '0.80', output: '4.00', maxOutputTokens: 8_192, description: 'Stable, production-proven, broad compatibility.' },
];

/**
 * Inserts the models of the pricing table that are not there yet. Existing
 * rows are left alone, so a price or flag an admin changed survives restarts.
 */
export async function seedCatalogue(db: Database): Promise<void> {
  await db
    .insert(modelTable)
    .values(
      seedModels.map((m, i) => ({
        id: m.id,
        name: m.name,
        aliases: [m.id.slice('anthropic/'.length)],
        upstreamId: m.id,
        inputPricePerMillion: parseMoney(m.input),
        outputPricePerMillion: parseMoney(m.output),
        description: m.description,
        recommended: m.recommended ?? false,
        maxOutputTokens: m.maxOutputTokens,
        sortOrder: i,
      })),
    )
    .onConflictDoNothing({ target: modelTable.id });
}

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

/** The model an id or alias names, in a list of models. */
export function modelNamed(models: Model[], idOrAlias: string): Model | undefined {
  return models.find((m) => m.id === idOrAlias || m.aliases.includes(idOrAlias));
}

export interface ModelChanges {
  inputPricePerMillion?: bigint;
  outputPricePerMillion?: bigint;
  enabled?: boolean;
  recommended?: boolean;
  description?: string | null;
  maxOutputTokens?: number;
}

export async function updateModel(db: Database, idOrAlias: string, changes: ModelChanges): Promise<Model> {
  const set: Partial<typeof modelTable.$inferInsert> = {};
  if (changes.inputPricePerMillion !== undefined) {
    set.inputPricePerMillion = assertPricePerMillion(changes.inputPricePerMillion, 'inputPricePerMillion');
  }
  if (changes.outputPricePerMillion !== undefined) {
    set.outputPricePerMillion = assertPricePerMillion(changes.outputPricePerMillion, 'outputPricePerMillion');
  }
  if (changes.maxOutputTokens !== undefined) {
    if (!Number.isInteger(changes.maxOutputTokens) || changes.maxOutputTokens < 1 || changes.maxOutputTokens > 1_000_000) {
      throw new BadInputError('maxOutputTokens must be an integer from 1 to 1000000', 'maxOutputTokens');
    }
    set.maxOutputTokens = changes.maxOutputTokens;
  }
  if (changes.enabled !== undefined) set.enabled = changes.enabled;
  if (changes.recommended !== undefined) set.recommended = changes.recommended;
  if (changes.description !== undefined) set.description = changes.description;

  const model = await findModel(db, idOrAlias);
  if (!model) throw new NotFoundError(`no model "${idOrAlias}"; the models query lists them`);
  if (Object.keys(set).length === 0) return model;
  const [updated] = await db
    .update(modelTable)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(modelTable.id, model.id))
    .returning();
  return updated ?? model;
}
