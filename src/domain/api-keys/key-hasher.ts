import { createHmac, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { settingTable } from '../../db/tables.js';

// Only an HMAC-SHA-256 of a key, peppered with a server secret, is stored:
// a stolen table of hashes is useless without the pepper.

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
