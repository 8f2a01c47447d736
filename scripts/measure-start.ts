import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../test/helpers/free-port.js';

// Start time and idle memory of the gateway, run from TypeScript through tsx
// and from the compiled build (npm run build first), interleaved so that a
// busy machine slows each alike. Usage: npx tsx scripts/measure-start.ts [--runs N] [--database URL]
// (a Postgres URL: PGlite's own start-up, 4–10 s here, would drown the figures).

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const runs = Number(option('runs', '5'));
const database = option('database', 'postgres://postgres@127.0.0.1:5432/tokenhub_measure_start');
const idleMs = 5000;

// `compiled` is what `npm start` runs; with source maps on, to show what they would cost.
const variants: Record<string, string[]> = {
  tsx: ['--import', 'tsx', 'src/main.ts'],
  compiled: ['dist/main.js'],
  'compiled + source maps': ['--enable-source-maps', 'dist/main.js'],
};
if (!existsSync(`${root}/dist/main.js`)) throw new Error('no build in dist/: npm run build first');

interface Sample {
  readyLogMs: number;
  healthMs: number;
  rssMiB: number;
}

async function createDatabaseIfMissing(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
  if (!rowCount) await admin.query(`create database "${name}"`);
  await admin.end();
}

async function measure(argv: string[]): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database, ADMIN_TOKEN: 'measure-admin-token-0123456789', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let readyLogMs = NaN;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (Number.isNaN(readyLogMs) && output.includes('TokenHub gateway ready')) readyLogMs = performance.now() - started;
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  let healthMs = NaN;
  while (Number.isNaN(healthMs)) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output}`);
    if (performance.now() - started > 60_000) throw new Error(`no /health within 60 s:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) healthMs = performance.now() - started;
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  child.kill('SIGTERM');
  await exited;
  return { readyLogMs, healthMs, rssMiB: rssKiB / 1024 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const format = (values: number[], digits = 0) => `median ${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

await createDatabaseIfMissing(database);
// One unmeasured start migrates the database, so that every measured start finds it up to date.
await measure(Object.values(variants)[0]!);
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, argv] of Object.entries(variants)) samples[name]!.push(await measure(argv));
}
console.log(`Node ${process.versions.node}, ${runs} runs each, idle RSS read ${idleMs / 1000} s after /health answered`);
for (const [name, list] of Object.entries(samples)) {
  console.log(
    `${name.padEnd(24)} ready log ${format(list.map((s) => s.readyLogMs))} ms | first /health ${format(list.map((s) => s.healthMs))} ms | idle RSS ${format(list.map((s) => s.rssMiB), 1)} MiB`,
  );
}
