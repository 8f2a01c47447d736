import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PgAsyncDatabase, PgAsyncTransaction } from 'drizzle-orm/pg-core/async';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { Config } from '../config.js';

/** One type for both drivers, so domain code never knows which one runs. */
export type Database = PgAsyncDatabase<PgQueryResultHKT>;
/** A transaction is a Database too: domain functions take either. */
export type Transaction = PgAsyncTransaction<PgQueryResultHKT>;

export interface DatabaseHandle {
  db: Database;
  driver: 'postgres' | 'pglite';
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called with every statement the application sends (tests count them). */
  onQuery?: (sql: string) => void;
  /** Called when an idle pooled connection fails (the server restarted, the network dropped it). */
  onPoolError?: (error: Error) => void;
}

/** A server that does not answer fails the request instead of holding it forever. */
const CONNECT_TIMEOUT_MS = 10_000;
const CLIENT_TIMEOUT_MARGIN_MS = 5_000;

const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: Config['database'], options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  const logger: DrizzleLogger | undefined = options.onQuery
    ? { logQuery: (query) => options.onQuery?.(query) }
    : undefined;
  if (config.kind === 'postgres') {
    const connection = { connectionString: config.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
    // Migrations may rightly run longer than any request's statement (an
    // index on a big table): they get a connection of their own, without the
    // statement timeout.
    const migrator = new pg.Client(connection);
    await migrator.connect();
    try {
      await migratePg(drizzlePg({ client: migrator, logger }), { migrationsFolder });
    } finally {
      await migrator.end();
    }
    // The server cancels a statement past statement_timeout; the client
    // gives up a little later on its own, for when the server cannot even
    // be told (a network that swallows packets).
    const queryTimeout = config.statementTimeoutMs === undefined ? undefined : config.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS;
    const pool = new pg.Pool({ ...connection, max: 20, statement_timeout: config.statementTimeoutMs, query_timeout: queryTimeout });
    // An idle client that loses its server must not crash the process: the
    // pool drops it and connects anew when needed.
    pool.on('error', (error) => options.onPoolError?.(error));
    const db = drizzlePg({ client: pool, logger });
    return {
      db: db as unknown as Database,
      driver: 'postgres',
      ping: async () => void (await pool.query('select 1')),
      close: () => pool.end(),
    };
  }
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });
  const client = new PGlite(config.dataDir);
  const db = drizzlePglite({ client, logger });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Database,
    driver: 'pglite',
    ping: async () => void (await client.query('select 1')),
    close: () => client.close(),
  };
}

/** Rows of a raw `db.execute`, whose result shape differs between drivers. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** Postgres SQLSTATE of a failed statement, through drizzle's wrapping. */
export function sqlStateOf(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * A statement refused for the data it carries (SQLSTATE class 22, data
 * exception; 54, a limit such as a too-large value) rather than for the
 * state of the server: sending it again would fail again.
 */
export function isDataError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('54'));
}

export const UNIQUE_VIOLATION = '23505';
export const NOT_NULL_VIOLATION = '23502';
