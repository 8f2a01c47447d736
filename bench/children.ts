import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// The processes the benchmark starts, each measured from the outside.

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface Child {
  process: ChildProcess;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child still running: none may outlive the benchmark, however it ends. */
const running = new Set<ChildProcess>();
globalThis.process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function childOf(process: ChildProcess): Child {
  if (process.pid === undefined) throw new Error('the child did not start');
  running.add(process);
  process.once('exit', () => running.delete(process));
  const exited = process.exitCode !== null || process.signalCode !== null ? Promise.resolve() : once(process, 'exit').then(() => undefined);
  return {
    process,
    pid: process.pid,
    stop: async (graceMs = 5_000) => {
      if (process.exitCode !== null || process.signalCode !== null) return;
      process.kill('SIGTERM');
      const timer = setTimeout(() => process.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Forks a bench/*.ts entry that says `{ type: 'ready', … }` over IPC when it is up. */
export async function forkReady<T extends object>(file: string, args: string[] = []): Promise<{ child: Child; ready: T }> {
  const process = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ['--import', 'tsx'],
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(process, 'message'),
    once(process, 'exit').then(([code]) => {
      throw new Error(`${file} exited (${String(code)}) before it was ready`);
    }),
  ])) as [T & { type: string }];
  if (message.type !== 'ready') throw new Error(`${file} said ${message.type} before ready`);
  return { child: childOf(process), ready: message };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface GatewayOptions {
  databaseUrl: string;
  upstreamBaseUrl: string;
  adminToken: string;
  port: number;
  /** Directory for a V8 CPU profile written when the gateway exits. */
  cpuProfileDir?: string;
  /** Another checkout to run the gateway from (A/B comparisons); this one by default. */
  sourceDir?: string;
  /**
   * `sources` (default): node + tsx + src/main.ts, which also runs checkouts
   * from before the build step. `compiled`: dist/main.js as `npm start` runs
   * it in production, built first if the sources changed.
   */
  entry?: 'sources' | 'compiled';
  /** Variables added to (or overriding) the gateway's environment below, e.g. tighter limits. */
  env?: Record<string, string>;
  /** Its log (stdout) piped to the caller, to be read from `process.stdout`, instead of shown. */
  captureLogs?: boolean;
  /** Opens the inspector on this loopback port (see inspector-gc.ts). */
  inspectPort?: number;
}

/**
 * The gateway in production mode, its logs at warn. Resolves once it
 * answers a query.
 */
export async function startGateway(options: GatewayOptions): Promise<Child> {
  const cwd = options.sourceDir ?? repoRoot;
  const flags = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  if (options.inspectPort !== undefined) flags.push(`--inspect=127.0.0.1:${options.inspectPort}`);
  if (options.entry === 'compiled') execFileSync(globalThis.process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd, stdio: 'inherit' });
  const entry = options.entry === 'compiled' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const process = spawn(globalThis.process.execPath, [...flags, ...entry], {
    cwd,
    // Its banner (stderr) shows in the benchmark's output, and so does any warning it logs (stdout) unless captured.
    stdio: ['ignore', options.captureLogs ? 'pipe' : 'inherit', 'inherit'],
    env: {
      PATH: globalThis.process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(options.port),
      DATABASE_URL: options.databaseUrl,
      UPSTREAM_BASE_URL: options.upstreamBaseUrl,
      UPSTREAM_API_KEY: 'th-bench-upstream-key',
      // The idle-subscription phase keeps completions waiting for a first token.
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '600000',
      ADMIN_TOKEN: options.adminToken,
      LOG_LEVEL: 'warn',
      SHUTDOWN_DEADLINE_MS: '1000',
      ...options.env,
    },
  });
  const child = childOf(process);
  const url = `http://127.0.0.1:${options.port}/graphql?query=%7B__typename%7D`;
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (process.exitCode !== null) throw new Error(`the gateway exited (${process.exitCode}) while starting`);
    const answered = await fetch(url, { headers: { accept: 'application/json' } }).then((r) => r.ok, () => false);
    if (answered) return child;
    await sleep(100);
  }
  await child.stop();
  throw new Error('the gateway did not answer within 60 s');
}
