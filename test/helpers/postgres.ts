import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

// Tests run against a real Postgres server: TEST_POSTGRES_URL, which the
// global set-up always sets (to a server it started, unless given one); the
// local server's default is for bench/, which runs outside vitest. Each test
// file works in a database of its own.
export const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/** This run's migrated template (each run has its own, so concurrent runs never collide). */
export function testTemplate(): string {
  return inject('templateDatabase');
}

export function databaseUrl(name: string, server = postgresUrl): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(server: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(template?: string): Promise<string> {
  const name = `tokenhub_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(postgresUrl, (c) => c.query(`create database "${name}"${template ? ` template "${template}"` : ''}`));
  return name;
}

export async function dropDatabase(name: string, server = postgresUrl): Promise<void> {
  await withAdmin(server, (c) => c.query(`drop database if exists "${name}" with (force)`));
}
