import { BadInputError, type FieldPath } from '../errors.js';
import { assertStorableText } from '../storable-text.js';

// Values that come from outside as free-form JSON (content parts, tools,
// tool calls, tool choice, response format) are checked before anything
// serialises them: JSON.stringify recurses and would overflow the stack on a
// value nested tens of thousands deep, and Postgres stores no U+0000 (see
// storable-text.ts). The walk is iterative, so no input can exhaust the stack.

/** How deeply a JSON input may nest; a JSON Schema for a tool rarely needs 10. */
export const MAX_JSON_DEPTH = 32;

/**
 * Checks a JSON input: at most MAX_JSON_DEPTH levels, and no U+0000 in any
 * string or key. The error names the offending place.
 */
export function assertPlainJson(value: unknown, path: FieldPath): void {
  const pending: { value: unknown; path: FieldPath; depth: number }[] = [{ value, path, depth: 0 }];
  while (pending.length > 0) {
    const item = pending.pop() as (typeof pending)[number];
    if (typeof item.value === 'string') {
      assertStorableText(item.value, item.path);
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_JSON_DEPTH) throw new BadInputError(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
    const entries: [string | number, unknown][] = Array.isArray(item.value) ? item.value.map((v, i) => [i, v]) : Object.entries(item.value);
    for (const [key, nested] of entries) {
      if (typeof key === 'string') assertStorableText(key, [...item.path, key]);
      pending.push({ value: nested, path: [...item.path, key], depth: item.depth + 1 });
    }
  }
}

/**
 * UTF-8 bytes of every string in a JSON value, keys included; `skip` leaves
 * out the strings of objects it matches (and everything inside them). Only
 * for values that passed assertPlainJson (the walk is iterative anyway).
 */
export function stringBytes(value: unknown, skip?: (object: Record<string, unknown>) => boolean): number {
  let bytes = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') bytes += Buffer.byteLength(item);
    else if (Array.isArray(item)) pending.push(...item);
    else if (typeof item === 'object' && item !== null) {
      const object = item as Record<string, unknown>;
      if (skip?.(object)) continue;
      for (const [key, nested] of Object.entries(object)) {
        bytes += Buffer.byteLength(key);
        pending.push(nested);
      }
    }
  }
  return bytes;
}
