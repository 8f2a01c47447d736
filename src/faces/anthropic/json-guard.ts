import type { FieldPath } from '../../domain/errors.js';
import { invalidRequest } from './anthropic-errors.js';

// What a request body may hold before it is translated, like the size limit:
// no U+0000 anywhere (Postgres text and jsonb cannot store it, and the
// request is stored as sent upstream) and no nesting deeper than MAX_DEPTH
// (a tool's input or schema is serialised and stored; a 5,000-deep one would
// exhaust the stack). Anthropic's requests nest about ten deep; JSON Schemas
// of tools a few more. The walk is iterative, so a deep body cannot
// overflow the guard itself.

const MAX_DEPTH = 64;

export function assertStorableJson(body: unknown): void {
  const stack: { value: unknown; path: FieldPath }[] = [{ value: body, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw invalidRequest(path, 'text must not contain the NUL character (U+0000)');
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_DEPTH) throw invalidRequest(path.slice(0, 4), `the request nests objects and arrays more than ${MAX_DEPTH} deep`);
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && key.includes('\u0000')) throw invalidRequest(path, 'property names must not contain the NUL character (U+0000)');
      stack.push({ value: child, path: [...path, key] });
    }
  }
}
