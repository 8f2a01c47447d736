import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';

/** A program the tests run, and the Debian package that installs it. */
export interface DebianProgram {
  path: string;
  debianPackage: string;
  /** Why the tests need it, for the message when it cannot be installed. */
  neededFor: string;
}

const installCommand = (packages: string[]) =>
  `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;

/**
 * Installs, with one apt-get run, the packages of the programs that are
 * missing. Only root may, and only where apt-get exists: otherwise this
 * stops the run before any test with the exact command to run instead.
 */
export async function ensureDebianPrograms(programs: DebianProgram[], log: (line: string) => void): Promise<void> {
  const missing = programs.filter((program) => !existsSync(program.path));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((program) => program.debianPackage))];
  const what = missing.map((program) => `${program.path} (${program.neededFor})`).join(', ');
  if (!existsSync('/usr/bin/apt-get')) {
    throw new Error(`The tests need ${what}, and this system has no apt-get to install it with. Install it (Debian's package: ${packages.join(', ')}), then npm test again.`);
  }
  if (userInfo().uid !== 0) {
    throw new Error(`The tests need ${what}, and only root can install it here. Run:\n\n  sudo sh -c '${installCommand(packages)}'\n\nthen npm test again.`);
  }
  log(`installing ${packages.join(', ')} with apt-get: the tests need ${what}`);
  await aptGet(['update']);
  await aptGet(['install', '-y', '--no-install-recommends', ...packages]);
  const stillMissing = missing.filter((program) => !existsSync(program.path));
  if (stillMissing.length > 0) throw new Error(`apt-get installed ${packages.join(' ')} but ${stillMissing.map((p) => p.path).join(', ')} is still missing`);
}

const LOCK_WAIT_MS = 10 * 60_000;

/**
 * Another apt-get may be running (a machine's own set-up): its locks are
 * waited for rather than taken as a failure. `DPkg::Lock::Timeout` covers
 * dpkg's lock only; `update` gives up at once on the lists lock, hence the retries.
 */
async function aptGet(args: string[]): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const { code, errors } = await run('apt-get', ['-qq', '-o', `DPkg::Lock::Timeout=${LOCK_WAIT_MS / 1000}`, ...args]);
    if (code === 0) return;
    if (!/Could not get lock/.test(errors) || Date.now() > deadline) throw new Error(`apt-get ${args.join(' ')} failed (${code}):\n${errors.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function run(command: string, args: string[]): Promise<{ code: number | null; errors: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, errors }));
  });
}
