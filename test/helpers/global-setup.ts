import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/database.js';
import { seedCatalogue } from '../../src/domain/catalogue/seed.js';
import { chromiumPath } from './chromium.js';
import { ensureDebianPrograms } from './debian-packages.js';
import { startPostgresServer } from './postgres-server.js';
import { databaseUrl, dropDatabase } from './postgres.js';
import { startRedisServer } from './redis-server.js';

const log = (line: string) => process.stderr.write(`test set-up: ${line}\n`);

/**
 * `npm test` provisions what the suite needs, so that it runs on a fresh
 * machine: the Postgres at TEST_POSTGRES_URL, else one it starts; the Redis
 * at TEST_REDIS_URL, else a redis-server it starts; Chromium at
 * /usr/bin/chromium; and the build in dist/, which the tests that run the
 * gateway as a process start. Missing programs are installed with apt-get
 * when this runs as root; otherwise the run stops here, before any test,
 * with the command to run. Servers started here are stopped at the end.
 *
 * Test files find the servers in TEST_POSTGRES_URL / TEST_REDIS_URL: set
 * here, before vitest starts its workers, which inherit this environment.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const redisServer = process.env.TEST_REDIS_URL ? undefined : redisServerPath();
    await ensureDebianPrograms(
      [
        { path: chromiumPath, debianPackage: 'chromium', neededFor: 'the playground browser test' },
        ...(redisServer ? [{ path: redisServer, debianPackage: 'redis-server', neededFor: 'a Redis for the tests, as TEST_REDIS_URL is not set' }] : []),
      ],
      log,
    );
    // All start at once; all settled, so that a failure of one still stops the others.
    const [postgres, redis, build] = await Promise.allSettled([
      given('TEST_POSTGRES_URL', checkPostgres) ??
        startPostgresServer().then((server) => {
          stops.push(server.stop);
          log(`started Postgres at ${server.url} (TEST_POSTGRES_URL is not set)`);
          return server.url;
        }),
      given('TEST_REDIS_URL', checkRedis) ??
        startRedisServer(redisServer!).then((server) => {
          stops.push(server.stop);
          log(`started redis-server at ${server.url} (TEST_REDIS_URL is not set)`);
          return server.url;
        }),
      promisify(execFile)(process.execPath, [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url)), '--if-stale']),
    ]);
    const postgresUrl = valueOf(postgres);
    process.env.TEST_POSTGRES_URL = postgresUrl;
    process.env.TEST_REDIS_URL = valueOf(redis);
    valueOf(build);
    const template = await createTemplate(postgresUrl);
    stops.push(() => dropDatabase(template, postgresUrl));
    project.provide('templateDatabase', template);
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}

function valueOf<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** The server a variable names, once it answers; a clear stop when it does not. */
function given(variable: string, check: (url: string) => Promise<void>): Promise<string> | undefined {
  const url = process.env[variable];
  if (!url) return undefined;
  return check(url).then(
    () => url,
    (error: Error) => {
      throw new Error(`${variable}=${url} does not answer (${error.message}). Start that server, or unset ${variable} and the tests start their own.`);
    },
  );
}

async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  await client.end();
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

/** redis-server on PATH, else where Debian's package puts it. */
function redisServerPath(): string {
  const found = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')).find((path) => existsSync(path));
  return found ?? '/usr/bin/redis-server';
}

// One template database per run, migrated and seeded once; test files clone
// it (CREATE DATABASE … TEMPLATE), which takes milliseconds instead of a
// migration per file. The name is this run's own, so runs side by side never
// collide on a shared server.
async function createTemplate(postgresUrl: string): Promise<string> {
  const template = `tokenhub_template_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create database "${template}"`);
  await admin.end();
  const handle = await openDatabase({ kind: 'postgres', url: databaseUrl(template, postgresUrl) });
  await seedCatalogue(handle.db);
  await handle.close();
  return template;
}
