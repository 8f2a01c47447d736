import { createHash } from 'node:crypto';
import type { UpstreamRequest } from './upstream.js';

/** JSON with object keys sorted, so that equal requests give equal text whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What an idempotency key is bound to: a hash of the validated request (the
 * model resolved, so an alias and its id are the same request). Only for
 * validated requests, whose nesting is bounded.
 */
export function fingerprintOf(request: UpstreamRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('base64url');
}
