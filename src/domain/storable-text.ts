import { BadInputError, type FieldPath } from './errors.js';

// Postgres stores no U+0000 in text or jsonb: such a value would fail deep in
// a statement as an unexpected error. Input holding it is the caller's error,
// said as one; text from the upstream has it removed (see cleanText).

const NUL = '\u0000';

/** Refuses a string holding U+0000, naming where it is. */
export function assertStorableText(text: string, path: FieldPath): void {
  if (text.includes(NUL)) throw new BadInputError(path, 'must not contain the NUL character (U+0000)');
}

/** Outside text as Postgres can store it: without U+0000. */
export function cleanText(text: string): string {
  return text.includes(NUL) ? text.replaceAll(NUL, '') : text;
}
