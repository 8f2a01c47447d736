import { costOf } from '../money.js';

// Prompt caching. An upstream that caches prompts (Anthropic's `cache_control`
// passed through OpenAI-style content parts) reports, among its prompt
// tokens, how many it read from its cache and how many it wrote to it. Both
// have their own price in the catalogue; the defaults are Anthropic's
// published multipliers of the input price.

/** The prices a completion is charged at, copied from its model when it starts. */
export interface Prices {
  inputPricePerMillion: bigint;
  outputPricePerMillion: bigint;
  cacheReadPricePerMillion: bigint;
  cacheWritePricePerMillion: bigint;
}

/** Token counts as the gateway keeps them: promptTokens include the cached reads and writes (OpenAI's convention). */
export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  cacheWriteTokens: number;
}

/**
 * The cache prices a model gets unless the admin sets others: reads 0.1×
 * and writes 1.25× the input price. Exact for every price of the pricing
 * table; another price is rounded down to whole nanocredits per token, the
 * rule every price follows (the migration that added the columns does the
 * same in SQL).
 */
export function defaultCachePrices(inputPricePerMillion: bigint): Pick<Prices, 'cacheReadPricePerMillion' | 'cacheWritePricePerMillion'> {
  const wholeUnitsPerToken = (perMillion: bigint) => (perMillion / 1_000_000n) * 1_000_000n;
  return {
    cacheReadPricePerMillion: wholeUnitsPerToken(inputPricePerMillion / 10n),
    cacheWritePricePerMillion: wholeUnitsPerToken((inputPricePerMillion * 5n) / 4n),
  };
}

/**
 * The exact charge for a usage: uncached prompt tokens at the input price,
 * cache reads and writes at theirs, output at the output price. Every price
 * is whole nanocredits per token, so each product is exact and nothing is
 * rounded. The upstream mapping only accepts cache counts that fit inside
 * promptTokens; anything else here is a bug, not a bill.
 */
export function costOfUsage(usage: UsageCounts, prices: Prices): bigint {
  const uncached = usage.promptTokens - usage.cachedPromptTokens - usage.cacheWriteTokens;
  if (uncached < 0) throw new Error('cached prompt tokens exceed the prompt tokens');
  return (
    costOf(uncached, prices.inputPricePerMillion) +
    costOf(usage.cachedPromptTokens, prices.cacheReadPricePerMillion) +
    costOf(usage.cacheWriteTokens, prices.cacheWritePricePerMillion) +
    costOf(usage.completionTokens, prices.outputPricePerMillion)
  );
}
