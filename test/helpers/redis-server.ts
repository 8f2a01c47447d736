import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { startSupervised } from './supervised-process.js';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** A throw-away redis-server for one test run: a free port on 127.0.0.1, nothing saved, its directory a temp one. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenhub-test-redis-'));
  try {
    const port = await freePort();
    const server = await startSupervised(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''],
      { stopSignal: 'SIGTERM', ready: /Ready to accept connections/, directory: dir },
    );
    return { url: `redis://127.0.0.1:${port}`, stop: server.stop };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
