import { createHash, type Hash } from 'node:crypto';
import type { UpstreamRequest } from './upstream.js';

/**
 * Feeds `value` to the hash as JSON with object keys sorted, so that equal
 * requests hash alike whatever their key order. Piece by piece: a request
 * of megabytes is never built as one more string.
 */
function feedCanonicalJson(hash: Hash, value: unknown): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i > 0) hash.update(',');
      feedCanonicalJson(hash, item);
    });
    hash.update(']');
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    hash.update('{');
    entries.forEach(([key, v], i) => {
      hash.update(i > 0 ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`);
      feedCanonicalJson(hash, v);
    });
    hash.update('}');
    return;
  }
  hash.update(JSON.stringify(value) ?? 'null');
}

/**
 * What an idempotency key is bound to: a hash of the validated request (the
 * model resolved, so an alias and its id are the same request). Only for
 * validated requests, whose nesting is bounded.
 */
export function fingerprintOf(request: UpstreamRequest): string {
  const hash = createHash('sha256');
  feedCanonicalJson(hash, request);
  return hash.digest('base64url');
}
