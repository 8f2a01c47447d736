import { BadInputError, type FieldPath } from './errors.js';
import { assertStorableText } from './storable-text.js';

/** A display name (of an account or a key), trimmed: 1 to 200 characters. */
export function validateName(name: string, path: FieldPath): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new BadInputError(path, 'must not be empty');
  if (trimmed.length > 200) throw new BadInputError(path, 'must be at most 200 characters');
  assertStorableText(trimmed, path);
  return trimmed;
}
