import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { apiKeyTable } from '../db/tables.js';
import { authenticateApiKey, looksLikeApiKey, type ApiKey, type ApiKeyHasher } from './api-keys.js';
import { ForbiddenError, RateLimitedError, UnauthenticatedError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';

/** Who is calling: the admin, the holder of an API key, or nobody. */
export type Viewer =
  | { kind: 'admin' }
  | { kind: 'apiKey'; accountId: string; apiKey: ApiKey }
  | { kind: 'anonymous' };

export const anonymous: Viewer = { kind: 'anonymous' };

// lastUsedAt is informational: writing it once a minute per key keeps
// authentication to one read on the hot path.
const LAST_USED_RESOLUTION_MS = 60_000;

export class Authenticator {
  private readonly compareKey = randomBytes(32);
  private readonly adminDigest: Buffer;
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly hasher: ApiKeyHasher,
    adminToken: string,
    private readonly rateLimiter: RateLimiter,
    private readonly onBackgroundError: (error: unknown) => void,
  ) {
    this.adminDigest = this.digest(adminToken);
  }

  /** The viewer an Authorization header value names; no header is anonymous. */
  async authenticate(authorization: string | null | undefined): Promise<Viewer> {
    if (authorization === null || authorization === undefined || authorization.trim() === '') return anonymous;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
    if (!match?.[1]) {
      throw new UnauthenticatedError('the Authorization header must be "Bearer <API key or admin token>"');
    }
    const token = match[1];
    // Both digests have the same length, so this comparison takes the same
    // time whatever the token; a key never matches the admin token anyway.
    if (timingSafeEqual(this.digest(token), this.adminDigest)) return { kind: 'admin' };
    if (!looksLikeApiKey(token)) throw new UnauthenticatedError('the bearer token is neither an API key (th-…) nor the admin token');
    const apiKey = await authenticateApiKey(this.db, this.hasher, token);
    if (apiKey.requestsPerMinute !== null) {
      const { allowed, retryAfterSeconds } = await this.rateLimiter.hit(apiKey.id, apiKey.requestsPerMinute);
      if (!allowed) {
        throw new RateLimitedError(`this API key is limited to ${apiKey.requestsPerMinute} requests per minute; retry in ${retryAfterSeconds} s`, retryAfterSeconds);
      }
    }
    this.touch(apiKey);
    return { kind: 'apiKey', accountId: apiKey.accountId, apiKey };
  }

  private digest(token: string): Buffer {
    return createHmac('sha256', this.compareKey).update(token).digest();
  }

  private touch(apiKey: ApiKey): void {
    const now = Date.now();
    if (now - (this.lastUsedWrites.get(apiKey.id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWrites.set(apiKey.id, now);
    this.db
      .update(apiKeyTable)
      .set({ lastUsedAt: new Date(now) })
      .where(eq(apiKeyTable.id, apiKey.id))
      .then(() => undefined, this.onBackgroundError);
  }
}

/** The admin may act on any account; a key only on its own. */
export function assertAccountAccess(viewer: Viewer, accountId: string): void {
  if (viewer.kind === 'admin') return;
  if (viewer.kind === 'anonymous') throw new UnauthenticatedError('sign in with an API key or the admin token');
  if (viewer.accountId !== accountId) throw new ForbiddenError('this API key can only act on its own account');
}

/**
 * Who may create or revoke keys of an account: the admin, and a key of that
 * account without limits (it acts as the account's owner). A key with any
 * limit may only revoke itself: creating keys, or revoking others, would let
 * it escape its own limits.
 */
export function assertMayManageKeys(viewer: Viewer, accountId: string, revokingKeyId?: string): void {
  assertAccountAccess(viewer, accountId);
  if (viewer.kind !== 'apiKey' || !hasLimits(viewer.apiKey) || revokingKeyId === viewer.apiKey.id) return;
  throw new ForbiddenError(
    revokingKeyId ? 'a key with limits may only revoke itself' : 'a key with limits cannot create keys; ask the admin or use a key without limits',
  );
}

function hasLimits(key: ApiKey): boolean {
  return (
    key.requestsPerMinute !== null ||
    key.maxConcurrentStreams !== null ||
    key.spendLimit !== null ||
    key.allowedModels !== null ||
    key.expiresAt !== null
  );
}
