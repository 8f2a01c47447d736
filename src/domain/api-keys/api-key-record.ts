import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { FOREIGN_KEY_VIOLATION, sqlStateOf, type Database } from '../../db/database.js';
import { apiKeyTable } from '../../db/tables.js';
import { NotFoundError } from '../errors.js';
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

export async function insertApiKey(db: Database, key: NewApiKey): Promise<ApiKey> {
  const [apiKey] = await db
    .insert(apiKeyTable)
    .values({ accountId: key.accountId, name: key.name, prefix: key.prefix, keyHash: key.keyHash, ...key.limits })
    .returning()
    .catch((error: unknown) => {
      if (sqlStateOf(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError(`no account ${key.accountId}`);
      throw error;
    });
  if (!apiKey) throw new Error('insert returned no key');
  return apiKey;
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

/** Informational: when the key was last used (written at most once a minute per key). */
export async function touchApiKey(db: Database, id: string, at: Date): Promise<void> {
  await db.update(apiKeyTable).set({ lastUsedAt: at }).where(eq(apiKeyTable.id, id));
}
