import type { Database } from '../../db/database.js';
import { modelTable } from '../../db/tables.js';
import { defaultCachePrices } from '../completions/prompt-cache-pricing.js';
import { parseMoney } from '../money.js';

interface SeedModel {
  id: string;
  name: string;
  input: string;
  output: string;
  maxOutputTokens: number;
  description: string;
  recommended?: boolean;
  /** Anthropic's own names when they differ from the id's (its dated ids reduce to these: see model-names.ts). */
  anthropicNames?: string[];
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
  { id: 'anthropic/claude-4-sonnet', name: 'Sonnet 4', input: '3.00', output: '15.00', maxOutputTokens: 64_000, description: 'Previous-generation workhorse.', anthropicNames: ['claude-sonnet-4-0', 'claude-sonnet-4'] },
  { id: 'anthropic/claude-4-opus', name: 'Opus 4', input: '15.00', output: '75.00', maxOutputTokens: 32_000, description: 'Highest-quality reasoning and code.', anthropicNames: ['claude-opus-4-0', 'claude-opus-4'] },
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
        aliases: [m.id.slice('anthropic/'.length), ...(m.anthropicNames ?? [])],
        upstreamId: m.id,
        inputPricePerMillion: parseMoney(m.input),
        outputPricePerMillion: parseMoney(m.output),
        ...defaultCachePrices(parseMoney(m.input)),
        description: m.description,
        recommended: m.recommended ?? false,
        maxOutputTokens: m.maxOutputTokens,
        sortOrder: i,
      })),
    )
    .onConflictDoNothing({ target: modelTable.id });
}

