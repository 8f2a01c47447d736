import type { CatalogueService } from '../../domain/catalogue/catalogue-service.js';
import { modelNamed } from '../../domain/catalogue/model-names.js';
import type { Model } from '../../domain/catalogue/model.js';
import { AnthropicHttpError, invalidRequest } from './anthropic-errors.js';

// GET /v1/models and /v1/models/{id} in Anthropic's shape, for requests that
// carry `anthropic-version` (without it, /v1/models is OpenAI's). Models
// are named by Anthropic's own ids ("claude-sonnet-4-6"): the catalogue id
// without its "anthropic/" prefix, which is what Anthropic's SDKs and
// Claude Code send back. Disabled models are left out, as they refuse
// completions. The catalogue keeps no release dates: created_at is when
// the entry last changed.

export interface AnthropicModel {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  /** The largest max_tokens a request may ask for. */
  max_tokens: number;
}

export interface AnthropicModelPage {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

const anthropicIdOf = (m: Model) => m.id.replace(/^anthropic\//, '');

function modelObject(m: Model): AnthropicModel {
  return { type: 'model', id: anthropicIdOf(m), display_name: m.name, created_at: m.updatedAt.toISOString(), max_tokens: m.maxOutputTokens };
}

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/**
 * One page, in catalogue order: `limit` (1–1000, default 20) models after
 * `after_id` or before `before_id`. has_more is exact, since the SDKs keep
 * asking for the next page while it is true.
 */
export async function modelPage(catalogue: CatalogueService, query: URLSearchParams): Promise<AnthropicModelPage> {
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidRequest(['limit'], `must be an integer from 1 to ${MAX_LIMIT}`);
  const models = (await catalogue.cached()).filter((m) => m.enabled).map(modelObject);
  const positionOf = (name: 'after_id' | 'before_id') => {
    const id = query.get(name);
    if (id === null) return undefined;
    const at = models.findIndex((m) => m.id === id);
    if (at === -1) throw invalidRequest([name], `no model ${JSON.stringify(id)} in this list`);
    return at;
  };
  const after = positionOf('after_id');
  const before = positionOf('before_id');
  let data: AnthropicModel[];
  let hasMore: boolean;
  if (before !== undefined) {
    const start = Math.max(0, before - limit);
    data = models.slice(start, before);
    hasMore = start > 0;
  } else {
    const start = after === undefined ? 0 : after + 1;
    data = models.slice(start, start + limit);
    hasMore = start + limit < models.length;
  }
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/** One model by any name the catalogue knows (dated ids too), as Anthropic's GET /v1/models/{id}. */
export async function modelById(catalogue: CatalogueService, name: string): Promise<AnthropicModel> {
  const model = modelNamed(await catalogue.cached(), name);
  if (!model?.enabled) throw new AnthropicHttpError(404, 'not_found_error', `model: ${JSON.stringify(name)} does not exist or is disabled; GET /v1/models lists them`);
  return modelObject(model);
}
