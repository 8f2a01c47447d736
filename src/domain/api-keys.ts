import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { FOREIGN_KEY_VIOLATION, sqlStateOf, type Database } from '../db/database.js';
import { apiKeyTable, settingTable } from '../db/tables.js';
import { validateName } from './accounts.js';
import { BadInputError, NotFoundError, UnauthenticatedError } from './errors.js';
import { assertUuid } from './pagination.js';

export type ApiKey = typeof apiKeyTable.$inferSelect;

// A key is "th-" + 32 random base62 characters (~190 bits) + a 6-character
// base62 CRC-32 of them. The checksum lets us refuse a mistyped or truncated
// key without a database lookup, and lets secret scanners recognise real keys.
// Only an HMAC-SHA-256 of the key (peppered with a server secret) and a short
// display prefix are stored.
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PREFIX = 'th-';
const DISPLAY_LENGTH = KEY_PREFIX.length + 8;
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const keyPattern = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  for (let i = 0; i < length; i++) {
    out += alphabet[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function checksum(body: string): string {
  let crc = 0xffffffff;
  for (let i = 0; i < body.length; i++) crc = (crcTable[(crc ^ body.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8);
  const value = (crc ^ 0xffffffff) >>> 0;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return base62(bytes, CHECKSUM_LENGTH);
}

export function generateApiKey(): string {
  const body = base62(randomBytes(24), BODY_LENGTH);
  return `${KEY_PREFIX}${body}${checksum(body)}`;
}

/** True when the text has the shape and checksum of a key we could have issued. */
export function isWellFormedApiKey(token: string): boolean {
  if (!keyPattern.test(token)) return false;
  const body = token.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY_LENGTH);
  return checksum(body) === token.slice(KEY_PREFIX.length + BODY_LENGTH);
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(KEY_PREFIX);
}

/** The server secret keys are hashed with: configured, or made once and kept in the database. */
export async function loadPepper(db: Database, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  await db
    .insert(settingTable)
    .values({ key: 'api_key_pepper', value: randomBytes(32).toString('base64url') })
    .onConflictDoNothing();
  const [row] = await db.select().from(settingTable).where(eq(settingTable.key, 'api_key_pepper'));
  if (!row) throw new Error('api key pepper missing after insert');
  return row.value;
}

export class ApiKeyHasher {
  constructor(private readonly pepper: string) {}

  hash(key: string): string {
    return createHmac('sha256', this.pepper).update(key).digest('hex');
  }
}

/** Per-key limits; null or absent means no limit. */
export interface ApiKeyLimits {
  requestsPerMinute?: number | null;
  maxConcurrentStreams?: number | null;
  spendLimit?: bigint | null;
  allowedModels?: string[] | null;
  expiresAt?: Date | null;
}

function positiveOrNull(value: number | null | undefined, field: string, max: number): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new BadInputError(`${field} must be an integer from 1 to ${max}, or null for no limit`, field);
  return value;
}

/**
 * The limits as they will be stored. Allowed models are checked against the
 * catalogue by the caller (`knownModel`) and stored as catalogue ids.
 */
export function validateLimits(limits: ApiKeyLimits, knownModel: (name: string) => string | undefined): ApiKeyLimits {
  const valid: ApiKeyLimits = {
    requestsPerMinute: positiveOrNull(limits.requestsPerMinute, 'requestsPerMinute', 1_000_000),
    maxConcurrentStreams: positiveOrNull(limits.maxConcurrentStreams, 'maxConcurrentStreams', 10_000),
  };
  if (limits.spendLimit !== undefined) {
    if (limits.spendLimit !== null && limits.spendLimit <= 0n) throw new BadInputError('spendLimit must be greater than zero, or null for no limit', 'spendLimit');
    valid.spendLimit = limits.spendLimit;
  }
  if (limits.allowedModels !== undefined) {
    if (limits.allowedModels !== null && limits.allowedModels.length === 0) {
      throw new BadInputError('allowedModels must name at least one model, or be null for all models', 'allowedModels');
    }
    valid.allowedModels = limits.allowedModels?.map((name) => {
      const id = knownModel(name);
      if (!id) throw new BadInputError(`allowedModels names an unknown model: ${JSON.stringify(name)}`, 'allowedModels');
      return id;
    }) ?? null;
  }
  if (limits.expiresAt !== undefined) {
    if (limits.expiresAt !== null && limits.expiresAt.getTime() <= Date.now()) throw new BadInputError('expiresAt must be in the future', 'expiresAt');
    valid.expiresAt = limits.expiresAt;
  }
  return Object.fromEntries(Object.entries(valid).filter(([, v]) => v !== undefined)) as ApiKeyLimits;
}

export interface CreatedApiKey {
  apiKey: ApiKey;
  /** The whole key: returned once, never stored. */
  secret: string;
}

export async function createApiKey(
  db: Database,
  hasher: ApiKeyHasher,
  input: { accountId: string; name: string; limits?: ApiKeyLimits },
): Promise<CreatedApiKey> {
  assertUuid(input.accountId, 'accountId');
  const name = validateName(input.name, 'name');
  const secret = generateApiKey();
  const [apiKey] = await db
    .insert(apiKeyTable)
    .values({ accountId: input.accountId, name, prefix: secret.slice(0, DISPLAY_LENGTH), keyHash: hasher.hash(secret), ...input.limits })
    .returning()
    .catch((error: unknown) => {
      if (sqlStateOf(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError(`no account ${input.accountId}`);
      throw error;
    });
  if (!apiKey) throw new Error('insert returned no key');
  return { apiKey, secret };
}

export async function findApiKey(db: Database, id: string): Promise<ApiKey | undefined> {
  assertUuid(id, 'id');
  const [key] = await db.select().from(apiKeyTable).where(eq(apiKeyTable.id, id));
  return key;
}

export function listApiKeys(db: Database, accountId: string): Promise<ApiKey[]> {
  return db.select().from(apiKeyTable).where(eq(apiKeyTable.accountId, accountId)).orderBy(desc(apiKeyTable.createdAt));
}

/** Changes a key's name or limits; only what is given changes (null clears a limit). */
export async function updateApiKey(db: Database, id: string, changes: { name?: string; limits: ApiKeyLimits }): Promise<ApiKey> {
  const set = { ...changes.limits, ...(changes.name === undefined ? {} : { name: validateName(changes.name, 'name') }) };
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

/**
 * The live key a bearer token names. Malformed keys are refused before any
 * lookup; the stored hash is compared in constant time.
 */
export async function authenticateApiKey(db: Database, hasher: ApiKeyHasher, token: string): Promise<ApiKey> {
  if (!isWellFormedApiKey(token)) {
    throw new UnauthenticatedError('the API key is malformed (wrong length or checksum); copy it again or create a new key');
  }
  const hash = hasher.hash(token);
  const [key] = await db.select().from(apiKeyTable).where(eq(apiKeyTable.keyHash, hash));
  if (!key || !timingSafeEqual(Buffer.from(key.keyHash), Buffer.from(hash))) {
    throw new UnauthenticatedError('unknown API key; create one with createApiKey');
  }
  if (key.revokedAt) throw new UnauthenticatedError('this API key was revoked; create a new one');
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw new UnauthenticatedError('this API key has expired; create a new one');
  return key;
}
