import type { CatalogueService } from '../../domain/catalogue/catalogue-service.js';
import { modelNamed } from '../../domain/catalogue/model-names.js';
import type { Model } from '../../domain/catalogue/model.js';
import { formatMoney } from '../../domain/money.js';
import { OpenAIHttpError } from './openai-errors.js';

// GET /v1/models in OpenAI's list shape, plus what OpenAI leaves out and a
// gateway's caller needs: the price. Disabled models are left out, since
// they refuse completions; the GraphQL `models` query shows them.

export interface OpenAIModel {
  id: string;
  object: 'model';
  /** The catalogue keeps no creation date: this is when the entry last changed (Unix seconds). */
  created: number;
  owned_by: string;
  name: string;
  description: string | null;
  aliases: string[];
  max_output_tokens: number;
  /** Credits (1 credit = 1 USD) per million tokens, as exact decimal strings. */
  pricing: { input_per_million: string; output_per_million: string; cache_read_per_million: string; cache_write_per_million: string };
}

function modelObject(m: Model): OpenAIModel {
  return {
    id: m.id,
    object: 'model',
    created: Math.floor(m.updatedAt.getTime() / 1000),
    owned_by: 'anthropic',
    name: m.name,
    description: m.description,
    aliases: m.aliases,
    max_output_tokens: m.maxOutputTokens,
    pricing: {
      input_per_million: formatMoney(m.inputPricePerMillion),
      output_per_million: formatMoney(m.outputPricePerMillion),
      cache_read_per_million: formatMoney(m.cacheReadPricePerMillion),
      cache_write_per_million: formatMoney(m.cacheWritePricePerMillion),
    },
  };
}

export async function modelList(catalogue: CatalogueService): Promise<{ object: 'list'; data: OpenAIModel[] }> {
  const models = await catalogue.cached();
  return { object: 'list', data: models.filter((m) => m.enabled).map(modelObject) };
}

/** A model by id or alias, as OpenAI's GET /v1/models/{model}. */
export async function modelById(catalogue: CatalogueService, idOrAlias: string): Promise<OpenAIModel> {
  const model = modelNamed(await catalogue.cached(), idOrAlias);
  if (!model?.enabled) {
    throw new OpenAIHttpError(404, `The model ${JSON.stringify(idOrAlias)} does not exist or is disabled; GET /v1/models lists them.`, 'invalid_request_error', 'model_not_found', 'model');
  }
  return modelObject(model);
}
