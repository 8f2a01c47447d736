import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { UpstreamRequest } from '../../src/domain/completions/upstream.js';
import { fingerprintOf } from '../../src/domain/completions/request-fingerprint.js';

// The idempotency fingerprint: a SHA-256 of the request as JSON with sorted keys.
const request = (content: string, extra: Record<string, unknown> = {}): UpstreamRequest =>
  ({ model: 'anthropic/claude-haiku-4-5', maxTokens: 100, messages: [{ role: 'user', content }], ...extra }) as UpstreamRequest;

/** The same JSON, built whole: what the fingerprint must hash, however it feeds the hash. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('a request fingerprint', () => {
  it('is what fingerprints stored before were: the sorted JSON, undefined array items as nothing', () => {
    const odd = request('hi "q" \\ \u2028 é 😀', { stop: ['a'], temperature: 0.5, tools: [{ b: 1, a: [1, null, true, undefined, { z: 1, 'k"ey': 2 }] }], user: undefined });
    expect(fingerprintOf(odd)).toBe(createHash('sha256').update(sortedJson(odd)).digest('base64url'));
  });

  it('is the same whatever the order of the keys, tools and schemas included', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }];
    const reordered = [{ function: { parameters: { properties: { a: { type: 'string' } }, type: 'object' }, name: 'f' }, type: 'function' }];
    expect(fingerprintOf(request('hi', { tools }))).toBe(fingerprintOf(request('hi', { tools: reordered })));
  });

  it('differs for a different request', () => {
    expect(fingerprintOf(request('hi'))).not.toBe(fingerprintOf(request('hi!')));
  });

  it('hashes the sorted JSON of the whole request, also when it is megabytes long', () => {
    const big = request('x', { messages: Array.from({ length: 5000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'y'.repeat(300)}` })) });
    expect(fingerprintOf(big)).toBe(createHash('sha256').update(sortedJson(big)).digest('base64url'));
  });
});
