import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { findApiKeyByHash, touchApiKey, type ApiKey } from '../api-keys/api-key-record.js';
import type { ApiKeyHasher } from '../api-keys/key-hasher.js';
import { isWellFormedApiKey, looksLikeApiKey } from '../api-keys/key-secret.js';
import { UnauthenticatedError } from '../errors.js';
import { admin, anonymous, type Viewer } from './viewer.js';

// lastUsedAt is informational: writing it once a minute per key keeps
// authentication to one read on the hot path. What is remembered for that is
// bounded: past MAX_TRACKED_KEYS, entries older than the resolution go, and
// if every one is recent (that many keys used within a minute), all go, at
// the price of a few more lastUsedAt writes.
const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_TRACKED_KEYS = 10_000;

/** Turns the credentials a request carries into the Viewer every domain entry point takes. */
export class Authenticator {
  private readonly compareKey = randomBytes(32);
  private readonly adminDigest: Buffer;
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly hasher: ApiKeyHasher,
    adminToken: string,
    private readonly onBackgroundError: (error: unknown) => void,
    private readonly maxTrackedKeys = MAX_TRACKED_KEYS,
  ) {
    this.adminDigest = this.digest(adminToken);
  }

  /** How many keys' last writes are remembered (bounded; for tests and metrics). */
  get trackedKeys(): number {
    return this.lastUsedWrites.size;
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
    if (!looksLikeApiKey(token)) throw new UnauthenticatedError('the bearer token is neither an API key (th-…) nor the admin token');
    const apiKey = await this.liveKey(token);
    this.touch(apiKey);
    return { kind: 'apiKey', accountId: apiKey.accountId, apiKey };
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
    const key = await findApiKeyByHash(this.db, hash);
    if (!key || !timingSafeEqual(Buffer.from(key.keyHash), Buffer.from(hash))) {
      throw new UnauthenticatedError('unknown API key; check it, or create a new key');
    }
    if (key.revokedAt) throw new UnauthenticatedError('this API key was revoked; create a new one');
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw new UnauthenticatedError('this API key has expired; create a new one');
    return key;
  }

  private forget(now: number): void {
    for (const [id, at] of this.lastUsedWrites) if (now - at >= LAST_USED_RESOLUTION_MS) this.lastUsedWrites.delete(id);
    if (this.lastUsedWrites.size >= this.maxTrackedKeys) this.lastUsedWrites.clear();
  }

  private digest(token: string): Buffer {
    return createHmac('sha256', this.compareKey).update(token).digest();
  }

  private touch(apiKey: ApiKey): void {
    const now = Date.now();
    if (now - (this.lastUsedWrites.get(apiKey.id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    if (this.lastUsedWrites.size >= this.maxTrackedKeys) this.forget(now);
    this.lastUsedWrites.set(apiKey.id, now);
    touchApiKey(this.db, apiKey.id, new Date(now)).then(() => undefined, this.onBackgroundError);
  }
}
