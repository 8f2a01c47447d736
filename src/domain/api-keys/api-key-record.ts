import { and, count, desc, eq, gt, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { accountTable, apiKeyTable } from '../../db/tables.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { assertUuid } from '../ids.js';
import type { ApiKeyLimits } from './api-key-limits.js';

// Persistence of API keys: a key is stored as its hash and display prefix only.

export type ApiKey = typeof apiKeyTable.$inferSelect;

export interface NewApiKey {
  accountId: string;
  name: string;
  prefix: string;
  keyHash: string;
  limits: ApiKeyLimits;
}

/**
 * Inserts a key unless the account already holds `maxLive` live keys.
 *
 * Invariant: an account never holds more than `maxLive` unrevoked,
 * unexpired keys. The account row is locked first, so concurrent creations
 * for one account run one after the other, and each counts (in a statement
 * of its own, so after the lock) what the previous ones committed.
 */
export async function insertApiKey(db: Database, key: NewApiKey, maxLive: number): Promise<ApiKey> {
  return db.transaction(async (tx) => {
    const [account] = await tx.select({ id: accountTable.id }).from(accountTable).where(eq(accountTable.id, key.accountId)).for('update');
    if (!account) throw new NotFoundError(`no account ${key.accountId}`);
    const [live] = await tx
      .select({ n: count() })
      .from(apiKeyTable)
      .where(and(eq(apiKeyTable.accountId, key.accountId), isNull(apiKeyTable.revokedAt), or(isNull(apiKeyTable.expiresAt), gt(apiKeyTable.expiresAt, sql`now()`))));
    if ((live?.n ?? 0) >= maxLive) {
      throw new ForbiddenError(`this account already holds ${maxLive} live API keys, the most it may; revoke one it no longer uses`);
    }
    const [apiKey] = await tx
      .insert(apiKeyTable)
      .values({ accountId: key.accountId, name: key.name, prefix: key.prefix, keyHash: key.keyHash, ...key.limits })
      .returning();
    if (!apiKey) throw new Error('insert returned no key');
    return apiKey;
  });
}

export async function findApiKey(db: Database, id: string): Promise<ApiKey | undefined> {
  assertUuid(id, ['id']);
  const [key] = await db.select().from(apiKeyTable).where(eq(apiKeyTable.id, id));
  return key;
}

export async function findApiKeyByHash(db: Database, keyHash: string): Promise<ApiKey | undefined> {
  const [key] = await db.select().from(apiKeyTable).where(eq(apiKeyTable.keyHash, keyHash));
  return key;
}

/** The keys of several accounts in one statement, newest first within each. */
export function listApiKeysOf(db: Database, accountIds: readonly string[]): Promise<ApiKey[]> {
  return db
    .select()
    .from(apiKeyTable)
    .where(inArray(apiKeyTable.accountId, [...accountIds]))
    .orderBy(desc(apiKeyTable.createdAt));
}

/** Changes a key's name or limits; only what is given changes (null clears a limit). */
export async function updateApiKey(db: Database, id: string, set: ApiKeyLimits & { name?: string }): Promise<ApiKey> {
  const existing = await findApiKey(db, id);
  if (!existing) throw new NotFoundError(`no API key ${id}`);
  if (Object.keys(set).length === 0) return existing;
  const [updated] = await db.update(apiKeyTable).set(set).where(eq(apiKeyTable.id, id)).returning();
  return updated ?? existing;
}

/** Revokes a key; revoking twice keeps the first revocation time. */
export async function revokeApiKey(db: Database, id: string): Promise<ApiKey> {
  const [revoked] = await db
    .update(apiKeyTable)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeyTable.id, id), isNull(apiKeyTable.revokedAt)))
    .returning();
  if (revoked) return revoked;
  const existing = await findApiKey(db, id);
  if (!existing) throw new NotFoundError(`no API key ${id}`);
  return existing;
}

/** Which of these keys may no longer be used: revoked, or expired. */
export async function unusableAmong(db: Database, ids: readonly string[]): Promise<string[]> {
  const rows = await db
    .select({ id: apiKeyTable.id })
    .from(apiKeyTable)
    .where(and(inArray(apiKeyTable.id, [...ids]), or(isNotNull(apiKeyTable.revokedAt), lte(apiKeyTable.expiresAt, sql`now()`))));
  return rows.map((r) => r.id);
}

/** Informational: when the key was last used (written at most once a minute per key). */
export async function touchApiKey(db: Database, id: string, at: Date): Promise<void> {
  await db.update(apiKeyTable).set({ lastUsedAt: at }).where(eq(apiKeyTable.id, id));
}
