import { BadInputError } from '../errors.js';

/** Per-key limits; null or absent means no limit. */
export interface ApiKeyLimits {
  requestsPerMinute?: number | null;
  maxConcurrentStreams?: number | null;
  spendLimit?: bigint | null;
  allowedModels?: string[] | null;
  expiresAt?: Date | null;
}

function positiveOrNull(value: number | null | undefined, name: string, max: number): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new BadInputError(['limits', name], `must be an integer from 1 to ${max}, or null for no limit`);
  return value;
}

/**
 * The limits as they will be stored. Allowed models are checked against the
 * catalogue (`knownModel` gives the id a name resolves to) and stored as ids.
 */
export function validateLimits(limits: ApiKeyLimits, knownModel: (name: string) => string | undefined): ApiKeyLimits {
  const valid: ApiKeyLimits = {
    requestsPerMinute: positiveOrNull(limits.requestsPerMinute, 'requestsPerMinute', 1_000_000),
    maxConcurrentStreams: positiveOrNull(limits.maxConcurrentStreams, 'maxConcurrentStreams', 10_000),
  };
  if (limits.spendLimit !== undefined) {
    if (limits.spendLimit !== null && limits.spendLimit <= 0n) throw new BadInputError(['limits', 'spendLimit'], 'must be greater than zero, or null for no limit');
    valid.spendLimit = limits.spendLimit;
  }
  if (limits.allowedModels !== undefined) {
    if (limits.allowedModels !== null && limits.allowedModels.length === 0) {
      throw new BadInputError(['limits', 'allowedModels'], 'must name at least one model, or be null for all models');
    }
    valid.allowedModels =
      limits.allowedModels?.map((name, i) => {
        const id = knownModel(name);
        if (!id) throw new BadInputError(['limits', 'allowedModels', i], `names an unknown model: ${JSON.stringify(name)}`);
        return id;
      }) ?? null;
  }
  if (limits.expiresAt !== undefined) {
    if (limits.expiresAt !== null && limits.expiresAt.getTime() <= Date.now()) throw new BadInputError(['limits', 'expiresAt'], 'must be in the future');
    valid.expiresAt = limits.expiresAt;
  }
  return Object.fromEntries(Object.entries(valid).filter(([, v]) => v !== undefined)) as ApiKeyLimits;
}

/** A key with any limit acts for its account only within them (see assertMayManageKeys). */
export function hasLimits(key: ApiKeyLimits): boolean {
  return (
    (key.requestsPerMinute ?? null) !== null ||
    (key.maxConcurrentStreams ?? null) !== null ||
    (key.spendLimit ?? null) !== null ||
    (key.allowedModels ?? null) !== null ||
    (key.expiresAt ?? null) !== null
  );
}
