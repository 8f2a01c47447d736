import { BadInputError } from './errors.js';
import { assertStorableText } from './storable-text.js';

/** An idempotency key as given (1 to 200 characters), or null when none was. */
export function validateIdempotencyKey(key: string | null | undefined): string | null {
  if (key === undefined || key === null) return null;
  if (key.length < 1 || key.length > 200) throw new BadInputError(['idempotencyKey'], 'must be 1 to 200 characters');
  assertStorableText(key, ['idempotencyKey']);
  return key;
}
