import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A gateway running as its own OS process, started exactly as `npm start` does. */
export interface ServerProcess {
  url: string;
  graphqlUrl: string;
  adminToken: string;
  /** Everything it wrote so far (logs and banner), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s. */
  stop(): Promise<void>;
  /** Sends one signal (SIGKILL: a crash) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  process: ChildProcess;
}

/**
 * Spawns the compiled build as `npm start` runs it (the global set-up builds
 * dist/ first), with `env` as its whole environment (plus PATH and HOME), and
 * resolves once its banner names the URL. The child is killed when this
 * process exits, even if the test never stops it.
 */
export async function startServerProcess(env: Record<string, string>, adminToken: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ADMIN_TOKEN: adminToken, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild(child);
  };
  try {
    const url = await bannerUrl(child, () => output);
    const kill = async (signal: NodeJS.Signals) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    };
    return { url, graphqlUrl: `${url}/graphql`, adminToken, output: () => output, stop, kill, process: child };
  } catch (error) {
    await stop();
    throw error;
  }
}

function bannerUrl(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start within 30 s:\n${output()}`)), 30_000);
    const check = () => {
      const match = /GraphQL, GraphiQL, SSE and WebSocket: (http:\/\/\S+)\/graphql/.exec(output());
      if (!match?.[1]) return;
      done();
      resolve(match[1]);
    };
    const exited = (code: number | null) => fail(new Error(`the server exited (${code}) before it was ready:\n${output()}`));
    const fail = (error: Error) => {
      done();
      reject(error);
    };
    const done = () => {
      clearTimeout(timer);
      child.stderr?.off('data', check);
      child.off('exit', exited);
    };
    child.stderr?.on('data', check);
    child.once('exit', exited);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
