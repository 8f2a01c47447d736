import { createHash, type Hash } from 'node:crypto';
import type { UpstreamRequest } from './upstream.js';

/** Text gathered before it goes to the hash: one update per piece would cost more than the hashing. */
const FLUSH_CHARACTERS = 64 * 1024;

/**
 * The request as JSON with object keys sorted, so that equal requests hash
 * alike whatever their key order, fed to the hash in slices: a request of
 * megabytes is never built as one more string.
 */
class CanonicalJsonHash {
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(private readonly hash: Hash) {}

  add(value: unknown): void {
    if (Array.isArray(value)) {
      this.write('[');
      value.forEach((item, i) => {
        if (i > 0) this.write(',');
        this.add(item);
      });
      this.write(']');
      return;
    }
    if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value).filter(([, v]) => v !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.write('{');
      entries.forEach(([key, v], i) => {
        this.write(i > 0 ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`);
        this.add(v);
      });
      this.write('}');
      return;
    }
    // As the fingerprints stored before this hashed it: nothing for an undefined array item.
    this.write(JSON.stringify(value) ?? '');
  }

  digest(): string {
    this.flush();
    return this.hash.digest('base64url');
  }

  private write(text: string): void {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= FLUSH_CHARACTERS) this.flush();
  }

  private flush(): void {
    this.hash.update(this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
  }
}

/**
 * What an idempotency key is bound to: a hash of the validated request (the
 * model resolved, so an alias and its id are the same request). Only for
 * validated requests, whose nesting is bounded.
 */
export function fingerprintOf(request: UpstreamRequest): string {
  const canonical = new CanonicalJsonHash(createHash('sha256'));
  canonical.add(request);
  return canonical.digest();
}
