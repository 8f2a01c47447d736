import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { createDatabase, databaseUrl, dropDatabase, testTemplate } from './postgres.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface ProcessHarness {
  simulator: Simulator;
  /** A plain connection to the processes' database. */
  pool: pg.Pool;
  /** Starts `src/main.ts` on the file's database and simulator; killed after the file. */
  spawn(env?: Record<string, string>): Promise<ServerProcess>;
}

/**
 * For test files that run the gateway as real processes (crashes, signals):
 * one simulator and one database for the file, and every process killed at
 * its end. Call at the top of the file.
 */
export function processHarness(adminToken: string): ProcessHarness {
  // Kept from the spawn on, not from its readiness: a test that times out
  // while a process starts must not leave that process running.
  const children: Promise<ServerProcess>[] = [];
  let database: string;
  const harness = {
    spawn: (env: Record<string, string> = {}) => {
      const child = startServerProcess(
        { DATABASE_URL: databaseUrl(database), UPSTREAM_BASE_URL: harness.simulator.baseUrl, UPSTREAM_API_KEY: 'th-upstream-test-key', ...env },
        adminToken,
      );
      children.push(child);
      return child;
    },
  } as ProcessHarness;
  beforeAll(async () => {
    harness.simulator = await startSimulator();
    database = await createDatabase(testTemplate());
    harness.pool = new pg.Pool({ connectionString: databaseUrl(database), max: 2 });
    harness.pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => child.then((c) => c.kill('SIGKILL'), () => undefined)));
    await harness.pool?.end();
    if (database) await dropDatabase(database);
    await harness.simulator?.close();
  });
  return harness;
}
