import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { findApiKeyByHash, touchApiKey, type ApiKey } from '../api-keys/api-key-record.js';
import type { ApiKeyHasher } from '../api-keys/key-hasher.js';
import { isWellFormedApiKey, looksLikeApiKey } from '../api-keys/key-secret.js';
import { UnauthenticatedError } from '../errors.js';
import { admin, anonymous, type Viewer } from './viewer.js';

// A key's row is remembered for `cacheTtlMs` (KEY_CHECK_INTERVAL_MS), so a
// client's requests cost one read per key per interval, not one each: a
// change made on this instance (revocation, new limits) is seen at once,
// one made on another instance within the interval. lastUsedAt is
// informational and written at most once a minute per key. What is
// remembered is bounded: past `maxTrackedKeys` entries, stale ones go, and
// if every one is recent, all go.
const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_TRACKED_KEYS = 10_000;

interface KnownKey {
  key: ApiKey;
  readAt: number;
}

/** Turns the credentials a request carries into the Viewer every domain entry point takes. */
export class Authenticator {
  /**
   * A KeyObject made once: given a Buffer, createHmac builds one on every
   * call, about 15 µs of each request here (3 µs with the KeyObject).
   */
  private readonly compareKey = createSecretKey(randomBytes(32));
  private readonly adminDigest: Buffer;
  /** By key hash. */
  private readonly known = new Map<string, KnownKey>();
  /** How many times a key was forgotten: a read that began before the last forget is not remembered. */
  private forgotten = 0;
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly hasher: ApiKeyHasher,
    adminToken: string,
    private readonly cacheTtlMs: number,
    private readonly onBackgroundError: (error: unknown) => void,
    private readonly maxTrackedKeys = MAX_TRACKED_KEYS,
  ) {
    this.adminDigest = this.digest(adminToken);
  }

  /** How many keys are remembered (bounded; for tests and metrics). */
  get trackedKeys(): number {
    return Math.max(this.known.size, this.lastUsedWrites.size);
  }

  /** The viewer an Authorization header value names; no header is anonymous. */
  async authenticate(authorization: string | null | undefined): Promise<Viewer> {
    if (authorization === null || authorization === undefined || authorization.trim() === '') return anonymous;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    if (!match?.[1]) {
      throw new UnauthenticatedError('the Authorization header must be "Bearer <API key or admin token>"');
    }
    return this.authenticateToken(match[1]);
  }

  /** The viewer a bare token (an API key or the admin token) names. */
  async authenticateToken(token: string): Promise<Viewer> {
    // Both digests have the same length, so this comparison takes the same
    // time whatever the token; a key never matches the admin token anyway.
    if (timingSafeEqual(this.digest(token), this.adminDigest)) return admin;
    if (!looksLikeApiKey(token)) throw new UnauthenticatedError('the token given is neither an API key (th-…) nor the admin token');
    const apiKey = await this.liveKey(token);
    this.touch(apiKey);
    return { kind: 'apiKey', accountId: apiKey.accountId, apiKey };
  }

  /** Forgets what is remembered of a key that changed here (revoked, new limits). */
  forget(keyId: string): void {
    this.forgotten += 1;
    for (const [hash, known] of this.known) if (known.key.id === keyId) this.known.delete(hash);
  }

  /**
   * The live key a token names. Malformed keys are refused before any
   * lookup; the stored hash is compared in constant time.
   */
  private async liveKey(token: string): Promise<ApiKey> {
    if (!isWellFormedApiKey(token)) {
      throw new UnauthenticatedError('the API key is malformed (wrong length or checksum); copy it again or create a new key');
    }
    const hash = this.hasher.hash(token);
    const key = await this.keyOf(hash);
    if (!key || !timingSafeEqual(Buffer.from(key.keyHash), Buffer.from(hash))) {
      throw new UnauthenticatedError('unknown API key; check it, or create a new key');
    }
    if (key.revokedAt) throw new UnauthenticatedError('this API key was revoked; create a new one');
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw new UnauthenticatedError('this API key has expired; create a new one');
    return key;
  }

  private async keyOf(hash: string): Promise<ApiKey | undefined> {
    const now = Date.now();
    const known = this.known.get(hash);
    if (known && now - known.readAt < this.cacheTtlMs) return known.key;
    const forgottenBefore = this.forgotten;
    const key = await findApiKeyByHash(this.db, hash);
    if (!key) return undefined;
    // A key that changed while this read ran (a revocation here) may be read
    // as it was before: remembering it would let it in for a whole interval.
    if (forgottenBefore !== this.forgotten) return key;
    if (this.known.size >= this.maxTrackedKeys) prune(this.known, (k) => now - k.readAt >= this.cacheTtlMs, this.maxTrackedKeys);
    this.known.set(hash, { key, readAt: now });
    return key;
  }

  private digest(token: string): Buffer {
    return createHmac('sha256', this.compareKey).update(token).digest();
  }

  private touch(apiKey: ApiKey): void {
    const now = Date.now();
    if (now - (this.lastUsedWrites.get(apiKey.id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    if (this.lastUsedWrites.size >= this.maxTrackedKeys) prune(this.lastUsedWrites, (at) => now - at >= LAST_USED_RESOLUTION_MS, this.maxTrackedKeys);
    this.lastUsedWrites.set(apiKey.id, now);
    touchApiKey(this.db, apiKey.id, new Date(now)).then(() => undefined, this.onBackgroundError);
  }
}

/** Drops the stale entries; all of them when that leaves `max` or more. */
function prune<K, V>(map: Map<K, V>, stale: (value: V) => boolean, max: number): void {
  for (const [key, value] of map) if (stale(value)) map.delete(key);
  if (map.size >= max) map.clear();
}
