import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { moneyViolations } from '../test/helpers/money-violations.js';
import { createDatabase, databaseUrl, dropDatabase } from '../test/helpers/postgres.js';
import { createCustomers } from './accounts.js';
import { forkReady, freePort, repoRoot, startGateway, type Child } from './children.js';
import { retainedHeapBytes } from './inspector-gc.js';
import { targetOf, type SoakTarget } from './soak-gateway.js';
import { aliasedStarts, keyChurn } from './soak-hostile-keys.js';
import { hostileInput, untrustedUpstream } from './soak-hostile-input.js';
import { balanceFlood, idleSockets } from './soak-hostile-sockets.js';
import { figures, markdown, passed, type Leftovers, type Phases, type SoakResult } from './soak-report.js';
import { countGatewayLog, sampleGateway } from './soak-samples.js';
import { Tally } from './soak-tally.js';
import { stopOnSignals } from './stop-on-signals.js';
import { NORMAL_KEYS, runNormalTraffic, type NormalSamples } from './soak-traffic.js';

// `npm run soak [-- --minutes N | --quick]`: one gateway, built as in
// production, under normal traffic for the first quarter, then normal
// traffic plus every hostile client; then the traffic stops, the running
// completions drain, and the books are checked. Prints the report, writes
// bench/results/soak.md and soak.json, exits 1 on any defect or broken invariant.

const { values: options } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
  },
});
const totalMs = options.quick ? 60_000 : Number(options.minutes) * 60_000;
if (!(totalMs > 0)) throw new Error(`--minutes must be a positive number, got ${options.minutes}`);
const warmUpMs = options.quick ? 5_000 : 10_000;
const baselineMs = totalMs / 4;
const SAMPLE_EVERY_MS = 5_000;
const DRAIN_LIMIT_MS = 60_000;
const ADMIN_TOKEN = 'soak-admin-token-0123456789';

/**
 * Tight enough that the hostile clients hit every one of them within the
 * run. Sockets that never initialise are closed by the init timeout alone
 * (the idle timer starts at connection_ack), whichever is shorter.
 */
const limits = {
  WS_CONNECTION_INIT_TIMEOUT_MS: '3000',
  MAX_STREAMS_PER_KEY: '300',
  WS_MAX_SUBSCRIPTIONS: '100',
  WS_MAX_ANONYMOUS_CONNECTIONS: '50',
  WS_IDLE_TIMEOUT_MS: '5000',
  MAX_KEYS_PER_ACCOUNT: '20',
  UPSTREAM_IDLE_TIMEOUT_MS: '5000',
};
// The gateway's own reading of them, with the defaults of the rest (the WS init timeout).
const config = loadConfig(limits);

const started = Date.now();
const log = (message: string): void => void process.stderr.write(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const children: Child[] = [];
let database: string | undefined;
let pool: pg.Pool | undefined;

/** Each hostile client, bounded by the hostile phase's signal; one that fails to run is a defect, not a crash of the soak. */
function hostileClients(target: SoakTarget, tally: Tally, signal: AbortSignal): Promise<void>[] {
  const socketLimits = {
    maxSubscriptions: config.websocket.maxSubscriptions,
    maxStreamsPerKey: config.limits.maxStreamsPerKey,
    connectionInitTimeoutMs: config.websocket.connectionInitTimeoutMs,
    idleTimeoutMs: config.websocket.idleTimeoutMs,
  };
  const clients: [string, () => Promise<void>][] = [
    ['a. balance flood', () => balanceFlood(target, socketLimits, tally, signal)],
    ['b. aliased startCompletion', () => aliasedStarts(target, tally, signal)],
    ['c. key churn', () => keyChurn(target, config.limits.maxKeysPerAccount, tally, signal)],
    ['d. untrusted upstream', () => untrustedUpstream(target, tally, signal)],
    ['e. hostile input', () => hostileInput(target, tally, signal)],
    ['f. sockets', () => idleSockets(target, socketLimits, tally, signal)],
  ];
  const crashes = tally.client('soak clients that stopped on an error', []);
  return clients.map(([name, run]) => run().catch((error: unknown) => crashes.record(`${name}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200), String(error))));
}

async function leftovers(db: pg.Pool): Promise<Leftovers> {
  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  return {
    activeCompletions: await count(`select count(*) as n from completions where status in ('PENDING', 'STREAMING')`),
    keysWithActiveStreams: await count('select count(*) as n from api_keys where active_streams <> 0'),
    accountsWithReserved: await count('select count(*) as n from accounts where reserved <> 0'),
  };
}

async function activeSubscriptions(target: SoakTarget): Promise<number | null> {
  const text = await fetch(`${target.baseUrl}/metrics`).then((r) => r.text(), () => '');
  const match = /^tokenhub_active_subscriptions (\S+)$/m.exec(text);
  return match ? Number(match[1]) : null;
}

async function main(): Promise<boolean> {
  database = await createDatabase();
  log(`database ${database} (dropped at the end)`);
  const upstream = await forkReady<{ baseUrl: string }>('./upstream-process.ts');
  children.push(upstream.child);
  const port = await freePort();
  const inspectPort = await freePort();
  const gateway = await startGateway({ databaseUrl: databaseUrl(database), upstreamBaseUrl: upstream.ready.baseUrl, adminToken: ADMIN_TOKEN, port, inspectPort, entry: 'compiled', env: limits, captureLogs: true });
  children.push(gateway);
  const tally = new Tally();
  if (gateway.process.stdout) countGatewayLog(gateway.process.stdout, tally);
  const target = targetOf(port, ADMIN_TOKEN);
  pool = new pg.Pool({ connectionString: databaseUrl(database), max: 2 });
  const keys = await createCustomers(target.graphqlUrl, ADMIN_TOKEN, NORMAL_KEYS);

  const warmUp = Date.now();
  const phases: Phases = { started: warmUp, baseline: warmUp + warmUpMs, hostile: warmUp + warmUpMs + baselineMs, drain: warmUp + warmUpMs + totalMs, drained: 0 };
  const sampler = sampleGateway(gateway.pid, target.baseUrl, SAMPLE_EVERY_MS);
  const normal: NormalSamples = { rest: [], graphql: [], probe: [] };
  log(`warm-up ${warmUpMs / 1000} s, baseline ${baselineMs / 1000} s, hostile ${(totalMs - baselineMs) / 1000} s`);
  const traffic = runNormalTraffic(target, keys, tally, normal, AbortSignal.timeout(phases.drain - Date.now()));
  // What the gateway retains, apart from what it has yet to collect: at the
  // start of the baseline and after the drain. A leak is the difference.
  await sleep(phases.baseline - Date.now());
  const retainedAtBaseline = await retainedHeapBytes(inspectPort);
  await sleep(phases.hostile - Date.now());
  log('hostile clients start');
  const hostile = Promise.all(hostileClients(target, tally, AbortSignal.timeout(phases.drain - Date.now())));
  await Promise.all([traffic, hostile]);

  log(`traffic stopped ${((Date.now() - phases.drain) / 1000).toFixed(1)} s after the deadline; draining`);
  const db = pool;
  const drainLimit = Date.now() + DRAIN_LIMIT_MS;
  let left = await leftovers(db);
  while (left.activeCompletions > 0 && Date.now() < drainLimit) {
    await sleep(500);
    left = await leftovers(db);
  }
  phases.drained = Date.now();
  // One last sample, so that the figures show the gateway after the drain.
  await sleep(SAMPLE_EVERY_MS);
  sampler.stop();
  const retainedAfterDrain = await retainedHeapBytes(inspectPort);
  const result: SoakResult = {
    phases,
    sampleEveryMs: SAMPLE_EVERY_MS,
    gateway: sampler.samples,
    normal,
    tally,
    money: await moneyViolations(db),
    leftovers: await leftovers(db),
    subscriptionsAfterDrain: await activeSubscriptions(target),
    retainedHeap: { baselineBytes: retainedAtBaseline, afterDrainBytes: retainedAfterDrain },
    limits,
  };
  const report = markdown(result);
  process.stdout.write(`${report}\n`);
  mkdirSync(`${repoRoot}bench/results`, { recursive: true });
  writeFileSync(`${repoRoot}bench/results/soak.md`, report);
  const raw = {
    figures: figures(result),
    ...result,
    tally: { clients: tally.clients.map((c) => ({ name: c.name, counts: Object.fromEntries(c.counts) })), defectCounts: Object.fromEntries(tally.defectCounts), defects: tally.defects },
  };
  writeFileSync(`${repoRoot}bench/results/soak.json`, `${JSON.stringify(raw, null, 2)}\n`);
  log('wrote bench/results/soak.md and bench/results/soak.json');
  return passed(result);
}

let cleaning: Promise<void> | undefined;
/** Stops every child and drops the database; once, however the run ends. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await pool?.end().catch(() => undefined);
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    if (database) await dropDatabase(database).catch((error: unknown) => log(`could not drop database ${database}: ${String(error)}`));
  })();
  return cleaning;
}

const signals = stopOnSignals(cleanup, log);

// While the children stop, the clients still running fail; that is no reason to stop cleaning up.
process.on('unhandledRejection', (reason) => {
  if (!signals.stopping) throw reason;
});

let ok = false;
try {
  ok = await main();
} finally {
  await cleanup();
}
// Sockets and timers of the clients may still be open: the verdict ends the process.
process.exit(ok ? 0 : 1);
