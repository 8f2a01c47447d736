import { Writable } from 'node:stream';
import pg from 'pg';
import { buildApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createDatabase, databaseUrl, dropDatabase, testTemplate } from './postgres.js';

export interface TestServer {
  app: App;
  url: string;
  graphqlUrl: string;
  adminToken: string;
  /** The server's own Postgres database. */
  databaseUrl: string;
  /** A plain connection to the same database, to check what the server stored. */
  pg: pg.Pool;
  /** Every log line the server wrote, as raw JSON text. */
  logs: string[];
  /** Every SQL statement the server sent, in order. */
  statements: string[];
  stop(): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * A real server on an ephemeral port over its own Postgres database, started
 * through the same buildApp as `npm start`. `env` overrides configuration;
 * `reachDatabase` rewrites the URL the server uses (through a proxy, say);
 * `spanProcessor` receives the server's spans.
 */
export async function startServer(
  env: Record<string, string> = {},
  options: { reachDatabase?: (url: string) => string; spanProcessor?: AppOptions['spanProcessor'] } = {},
): Promise<TestServer> {
  const database = await createDatabase(testTemplate());
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: options.reachDatabase ? options.reachDatabase(databaseUrl(database)) : databaseUrl(database),
    ADMIN_TOKEN,
    LOG_LEVEL: 'trace',
    GRAPHIQL: 'true',
    INTROSPECTION: 'true',
    ...env,
  });
  const logs: string[] = [];
  const statements: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const app = await buildApp(config, { logger: createLogger(config, sink), onQuery: (sql) => statements.push(sql), spanProcessor: options.spanProcessor });
  const url = await app.start();
  const pool = new pg.Pool({ connectionString: databaseUrl(database), max: 4 });
  // The database is dropped with force at the end; idle clients must not crash the run.
  pool.on('error', () => undefined);
  return {
    app,
    url,
    graphqlUrl: `${url}/graphql`,
    adminToken: app.adminToken,
    databaseUrl: databaseUrl(database),
    pg: pool,
    logs,
    statements,
    stop: async () => {
      await app.stop();
      await pool.end();
      await dropDatabase(database);
    },
  };
}
