import { spawn } from 'node:child_process';
import { once } from 'node:events';

// A server the test run starts (Postgres, Redis) must never outlive the run,
// even when vitest itself is killed with SIGKILL and no teardown runs. So the
// server runs under a small shell that holds the read end of a pipe whose
// write end only this process holds: end of file, whether from stop() or from
// this process dying, makes the shell send the server its stop signal. The
// shell also exits when the server does, so a crash is seen at once, and
// removes the server's directory after it, so nothing is left on disk either.
const supervisor = `
signal=$1; directory=$2; shift 2
exec 3<&0
"$@" </dev/null &
server=$!
( while read -r _; do :; done; kill -s "$signal" "$server" 2>/dev/null ) <&3 &
watcher=$!
wait "$server"
status=$?
kill "$watcher" 2>/dev/null
rm -rf "$directory"
exit "$status"
`;

export interface SupervisedProcess {
  /** Sends the stop signal and waits for the server to exit and its directory to be removed. */
  stop(): Promise<void>;
}

export interface SupervisedOptions {
  /** The signal that shuts the server down promptly (Postgres: SIGINT, a "fast" shutdown). */
  stopSignal: 'SIGINT' | 'SIGTERM';
  /** A line the server writes once it accepts connections. */
  ready: RegExp;
  /** The server's own directory (a temp one), removed when it exits. */
  directory: string;
  /** Run as this user (a server that refuses to run as root); it must be able to remove `directory`. */
  user?: { uid: number; gid: number };
}

// Generous: a loaded machine (two cores shared by several test runs) starts Postgres slowly.
const READY_TIMEOUT_MS = 60_000;

/** Starts `command` under the supervisor and resolves once it has written its ready line. */
export async function startSupervised(command: string, args: string[], options: SupervisedOptions): Promise<SupervisedProcess> {
  const child = spawn('sh', ['-c', supervisor, 'supervisor', options.stopSignal.slice(3), options.directory, command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options.user,
  });
  let output = '';
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not get ready within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    let ready = false;
    const collect = (chunk: Buffer) => {
      // Still read once ready, so that the server never blocks on a full pipe.
      if (ready) return;
      output += chunk.toString();
      if (options.ready.test(output)) {
        ready = true;
        settle();
        resolve();
      }
    };
    const early = (code: number | null) => fail(`exited (${code}) before it was ready`);
    const fail = (why: string) => {
      settle();
      child.stdin.end();
      reject(new Error(`${command} ${why}:\n${output.slice(-4000)}`));
    };
    const settle = () => {
      clearTimeout(timer);
      child.off('exit', early);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', early);
    child.once('error', (error) => fail(error.message));
  });
  return {
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      await exited;
    },
  };
}
