import { BadInputError, type FieldPath } from './errors.js';

// Postgres stores no U+0000 in text or jsonb, and jsonb refuses the escape of
// a lone UTF-16 surrogate: such a value would fail deep in a statement as an
// unexpected error. Input holding one is the caller's error, said as one,
// except message text; text from the upstream and message text are cleaned
// instead (cleanText), so that they can always be stored.

const NUL = '\u0000';

export function isStorableText(text: string): boolean {
  return !text.includes(NUL) && text.isWellFormed();
}

/** Refuses a string Postgres cannot store, naming where it is. */
export function assertStorableText(text: string, path: FieldPath): void {
  if (text.includes(NUL)) throw new BadInputError(path, 'must not contain the NUL character (U+0000)');
  if (!text.isWellFormed()) throw new BadInputError(path, 'must be well-formed Unicode (it holds a lone surrogate)');
}

/** Outside text as Postgres can store it: without U+0000, lone surrogates replaced by U+FFFD. */
export function cleanText(text: string): string {
  const whole = text.isWellFormed() ? text : text.toWellFormed();
  return whole.includes(NUL) ? whole.replaceAll(NUL, '') : whole;
}
