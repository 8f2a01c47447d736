import { BadInputError, field, say } from '../errors.js';
import { formatMoney } from '../money.js';
import type { Prices } from '../completions/prompt-cache-pricing.js';
import { modelNamed } from './model-names.js';
import type { Model } from './model.js';

// A model's fallback answers its completions when it keeps failing before
// any output (its retries exhausted, or its circuit breaker open). One hop
// only: a completion calls at most its model and that model's fallback.
//
// A fallback is never priced above the model it stands in for, on any of
// the four prices. The reservation is made at the requested model's prices
// before the run knows whether it will switch, and the charge must fit it;
// with no price higher, the worst case at the fallback's prices is at most
// the reservation for every request, and the customer never pays more per
// token than for the model they asked for.

const priceNames = ['inputPricePerMillion', 'outputPricePerMillion', 'cacheReadPricePerMillion', 'cacheWritePricePerMillion'] as const;

/** The first price of `fallback` above `prices`, or undefined when none is. */
function higherPrice(fallback: Prices, prices: Prices): (typeof priceNames)[number] | undefined {
  return priceNames.find((name) => fallback[name] > prices[name]);
}

/**
 * An admin's choice of fallback for `model` (its changes applied), checked
 * against the catalogue: another existing, enabled model, priced no higher,
 * whose own fallbacks do not lead back to `model`. Returns its id, or null
 * to clear. The caller holds the catalogue's rows locked, so the others
 * cannot change before the update commits.
 */
export function validateFallback(name: string | null, model: Model, models: readonly Model[]): string | null {
  if (name === null) return null;
  const path = ['fallbackModel'];
  const fallback = modelNamed(models, name);
  if (!fallback) throw new BadInputError(path, `no model ${JSON.stringify(name)}`);
  if (fallback.id === model.id) throw new BadInputError(path, 'a model cannot be its own fallback');
  if (!fallback.enabled) throw new BadInputError(path, `${fallback.id} is disabled; enable it first or pick another model`);
  const higher = higherPrice(fallback, model);
  if (higher) {
    throw new BadInputError(
      path,
      say`${fallback.id} costs more than ${model.id} (${field(higher)} ${formatMoney(fallback[higher])} > ${formatMoney(model[higher])}); a fallback is never priced above the model it stands in for`,
    );
  }
  const seen = new Set([model.id]);
  for (let next: Model | undefined = fallback; next?.fallbackModelId; next = models.find((m) => m.id === next?.fallbackModelId)) {
    if (seen.has(next.fallbackModelId)) throw new BadInputError(path, `following the fallbacks from ${fallback.id} reaches ${next.fallbackModelId} again: fallbacks must not form a cycle`);
    seen.add(next.fallbackModelId);
  }
  return fallback.id;
}

/**
 * The fallback a completion of `model` may switch to, at the prices it was
 * reserved at and with its maxTokens: the catalogue may have changed since
 * the fallback was chosen (disabled, repriced, a lower output limit), and
 * then the completion runs without one.
 */
export function usableFallback(model: Model, models: readonly Model[], prices: Prices, maxTokens: number): Model | undefined {
  const fallback = model.fallbackModelId ? models.find((m) => m.id === model.fallbackModelId) : undefined;
  if (!fallback?.enabled || higherPrice(fallback, prices) || maxTokens > fallback.maxOutputTokens) return undefined;
  return fallback;
}
