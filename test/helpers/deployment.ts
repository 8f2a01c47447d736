import pg from 'pg';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createDatabase, databaseUrl, dropDatabase, testTemplate } from './postgres.js';
import { deleteKeys, redisUrl, testKeyPrefix } from './redis.js';
import { ADMIN_TOKEN } from './server.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * Two gateway processes, A and B, on one fresh Postgres database and one
 * Redis (their own key prefix), in front of one simulator: what a
 * deployment of several instances is.
 */
export interface TwoInstances {
  a: ServerProcess;
  b: ServerProcess;
  simulator: Simulator;
  /** A small pool on their database, for the test's own reads. */
  pool: pg.Pool;
  stop(): Promise<void>;
}

export async function startTwoInstances(env: Record<string, string>): Promise<TwoInstances> {
  const simulator = await startSimulator();
  const database = await createDatabase(testTemplate());
  const pool = new pg.Pool({ connectionString: databaseUrl(database), max: 2 });
  const keyPrefix = testKeyPrefix();
  const common = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl(database),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    UPSTREAM_BASE_URL: simulator.baseUrl,
    UPSTREAM_API_KEY: 'th-upstream-test-key',
    LOG_LEVEL: 'warn',
    ...env,
  };
  const started = await Promise.allSettled([startServerProcess(common, ADMIN_TOKEN), startServerProcess(common, ADMIN_TOKEN)]);
  const stop = async () => {
    // A stopped (SIGSTOP) process must run again to exit.
    for (const s of started) if (s.status === 'fulfilled') s.value.process.kill('SIGCONT');
    await Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    await Promise.allSettled([simulator.close(), pool.end(), deleteKeys(keyPrefix)]);
    await dropDatabase(database);
  };
  const [a, b] = started;
  if (a.status === 'rejected' || b.status === 'rejected') {
    await stop();
    throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
  }
  return { a: a.value, b: b.value, simulator, pool, stop };
}
