import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDatabase, databaseUrl, dropDatabase, postgresUrl } from '../test/helpers/postgres.js';
import { createCustomers } from './accounts.js';
import { ensurePortkey, startPortkey, type PortkeyInstall } from './baselines/portkey.js';
import { quiet, runCell, serverPids, type CellMeasurement, type Processes } from './cell-runner.js';
import { forkReady, freePort, repoRoot, startGateway, type Child } from './children.js';
import { restBaseOf } from './clients/arm-clients.js';
import { measureIdleSubscriptions, type IdleFigures } from './idle-phase.js';
import type { CellSpec, Endpoints } from './protocol.js';
import { aggregate, detailTable, idleTable, statementsTable, summaryTable, targets, targetsText } from './report.js';
import { StatementCounter } from './statement-counter.js';
import { stopOnSignals } from './stop-on-signals.js';
import { percentile } from './stats.js';
import { WorkerPool } from './worker-pool.js';
import { measureStatements, type StatementFigures } from './statements-phase.js';
import { arms, armSpecs, isFace, parseArms, type ArmName, type ProfileName } from './workload.js';

// `npm run bench [-- --quick]`: the gateway's faces against the upstream
// alone, a thin proxy and Portkey (a peer gateway), measured in the same
// run, arms interleaved. Prints the tables and the targets, and writes
// bench/results/latest.json and latest.md. See the README's Performance section.

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string' },
    profiles: { type: 'string', default: 'latency,throughput' },
    arms: { type: 'string', default: arms.join(',') },
    idle: { type: 'string' },
    'no-portkey': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'gateway-dir': { type: 'string' },
    'compare-dir': { type: 'string' },
    'skip-phases': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/latest.json' },
  },
});

const quick = options.quick ?? false;
const runs = Number(options.runs ?? (quick ? 1 : 3));
const workerCount = Number(options.workers);
const concurrencies = (options.concurrency ?? '1,50,200').split(',').map(Number);
const profileNames = (options.profiles ?? '').split(',') as ProfileName[];
let armNames: ArmName[] = parseArms(options.arms ?? '');
const idleCount = Number(options.idle ?? (quick ? 200 : 1000));
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const jsonOut = `${repoRoot}${options.out}`;
const markdownOut = jsonOut.replace(/\.json$/, '') + '.md';

/**
 * Cell timing. Latency cells let every completion finish (256 tokens at
 * 10 ms take 2.6 s) and count throughput while all clients stream;
 * throughput cells run a closed loop for 1.5 s and abort what is left.
 */
function cellFor(arm: ArmName, profile: ProfileName, concurrency: number): CellSpec {
  if (profile === 'latency') {
    const staggerMs = concurrency === 1 ? 0 : 500;
    return { arm, profile, concurrency, staggerMs, durationMs: 2500, windowFromMs: 600, windowToMs: 2500, drain: true };
  }
  return { arm, profile, concurrency, staggerMs: 200, durationMs: 1500, windowFromMs: 400, windowToMs: 1500, drain: false };
}

const started = Date.now();
const log = (message: string): void => void process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const children: Child[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
let database: string | undefined;
/** Arms asked for that did not run, and why. */
const skipped: { arm: ArmName; why: string }[] = [];

function skip(arm: ArmName, why: string): void {
  if (!armNames.includes(arm)) return;
  armNames = armNames.filter((a) => a !== arm);
  skipped.push({ arm, why });
  log(`skipping the ${arm} arm: ${why}`);
}

async function gatewayOn(
  databaseUrlOfGateway: string,
  upstream: string,
  cpuProfileDir?: string,
  sourceDir = options['gateway-dir'],
  inspectPort?: number,
): Promise<{ child: Child; graphql: string }> {
  const port = await freePort();
  const child = await startGateway({
    databaseUrl: databaseUrlOfGateway,
    upstreamBaseUrl: upstream,
    adminToken: ADMIN_TOKEN,
    port,
    cpuProfileDir,
    sourceDir,
    inspectPort,
    // As production runs it; a checkout from before the build step runs from its sources.
    entry: existsSync(`${sourceDir ?? repoRoot}/scripts/build.mjs`) ? 'compiled' : 'sources',
  });
  children.push(child);
  return { child, graphql: `http://127.0.0.1:${port}/graphql` };
}

async function onPostgres(statement: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query(statement)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/**
 * Whether the gateway has an Anthropic face: POST /v1/messages with an
 * empty body answers 400 or the like once it exists, 404 before.
 */
async function messagesStatus(graphqlUrl: string, apiKey: string): Promise<number> {
  const answer = await fetch(`${restBaseOf(graphqlUrl)}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: '{}',
  });
  await answer.arrayBuffer();
  return answer.status;
}

async function main(): Promise<void> {
  let portkeyInstall: PortkeyInstall | undefined;
  if (options['no-portkey']) skip('portkey', '--no-portkey');
  log(`runs ${runs}, concurrency ${concurrencies.join('/')}, profiles ${profileNames.join('/')}, arms ${armNames.join('/')}, ${workerCount} load workers`);
  // Portkey first: if it cannot be installed, fail before anything else ran.
  if (armNames.includes('portkey')) portkeyInstall = ensurePortkey(log);
  database = await createDatabase();
  log(`database ${database} (dropped at the end)`);
  const dbUrl = databaseUrl(database);
  const upstream = await forkReady<{ baseUrl: string }>('./upstream-process.ts');
  children.push(upstream.child);
  const proxy = await forkReady<{ baseUrl: string }>('./thin-proxy.ts', [upstream.ready.baseUrl]);
  children.push(proxy.child);
  const portkey = armNames.includes('portkey') ? await startPortkey(log) : undefined;
  if (portkey) {
    children.push(portkey.child);
    log(`Portkey ${portkeyInstall?.gateway} (@hono/node-server ${portkeyInstall?.honoNodeServer}, hono ${portkeyInstall?.hono.join('/')}) at ${portkey.baseUrl}`);
  }
  const pool = await WorkerPool.start(workerCount);
  const baseEndpoints = { upstream: upstream.ready.baseUrl, proxy: proxy.ready.baseUrl, portkey: portkey?.baseUrl };

  // Phase 1, on a gateway whose Postgres traffic is counted on the wire:
  // accounts, statements per completion, idle subscriptions (on a fresh heap).
  const counter = await StatementCounter.start(new URL(dbUrl));
  let gateway = await gatewayOn(counter.urlFor(dbUrl), upstream.ready.baseUrl);
  log('creating accounts and keys');
  const apiKeys = await createCustomers(gateway.graphql, ADMIN_TOKEN, Math.max(...concurrencies, 10));
  if (armNames.includes('anthropic')) {
    const status = await messagesStatus(gateway.graphql, apiKeys[0] as string);
    if (status === 404) skip('anthropic', 'the gateway answers POST /v1/messages with 404 (no Anthropic face yet)');
    else log(`POST /v1/messages answers ${status} to an empty body: running the anthropic arm`);
  }
  let statements: StatementFigures[] = [];
  const idle: IdleFigures[] = [];
  if (!options['skip-phases']) {
    log(`counting Postgres statements per completion (${armNames.filter(isFace).join(', ')})`);
    statements = await measureStatements(counter, { ...baseEndpoints, graphql: gateway.graphql }, armNames, apiKeys[0] as string, agent, quick ? 5 : 10);
    for (const transport of idleCount > 0 ? (['ws', 'sse'] as const) : []) {
      await gateway.child.stop();
      const inspectPort = await freePort();
      gateway = await gatewayOn(counter.urlFor(dbUrl), upstream.ready.baseUrl, undefined, undefined, inspectPort);
      log(`opening 2 × ${idleCount} idle ${transport} subscriptions`);
      idle.push(await measureIdleSubscriptions(pool, { ...baseEndpoints, graphql: gateway.graphql }, gateway.child.pid, apiKeys, idleCount, transport, agent, inspectPort));
    }
  }
  await gateway.child.stop();
  await counter.close();

  // Phase 2: the matrix, on a gateway with a direct database connection.
  const profileDir = options['cpu-prof'] ? `${repoRoot}bench/results/profiles` : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  gateway = await gatewayOn(dbUrl, upstream.ready.baseUrl, profileDir);
  // An A/B comparison runs a second gateway from another checkout, its arms
  // interleaved with the others under the same conditions.
  const compared = options['compare-dir'] ? await gatewayOn(dbUrl, upstream.ready.baseUrl, undefined, options['compare-dir']) : undefined;
  const endpoints: Endpoints = { ...baseEndpoints, graphql: gateway.graphql, graphqlBase: compared?.graphql };
  const processes: Processes = {
    gateway: gateway.child.pid,
    gatewayBase: compared?.child.pid,
    proxy: proxy.child.pid,
    portkey: portkey?.child.pid,
    upstream: upstream.child.pid,
  };
  const servers = serverPids(processes);
  const cellsOf = (profile: ProfileName, concurrency: number): CellSpec[] =>
    armNames.flatMap((arm) => {
      const cell = cellFor(arm, profile, concurrency);
      return compared && isFace(arm) ? [cell, { ...cell, base: true }] : [cell];
    });

  log('warming up');
  for (const cell of cellsOf('throughput', 50)) {
    await runCell(pool, { ...cell, durationMs: 1000, windowFromMs: 200, windowToMs: 1000 }, 0, apiKeys, endpoints, processes);
    await quiet(servers);
  }

  const measurements: CellMeasurement[] = [];
  for (let run = 1; run <= runs; run++) {
    for (const profile of profileNames) {
      for (const concurrency of concurrencies) {
        // Arms interleave, in an order that rotates from run to run.
        const cells = cellsOf(profile, concurrency);
        const order = cells.map((_, i) => cells[(i + run - 1) % cells.length] as CellSpec);
        for (const cell of order) {
          const m = await runCell(pool, cell, run, apiKeys, endpoints, processes);
          measurements.push(m);
          log(
            `run ${run} ${profile} c=${concurrency} ${m.label}: ttft p50 ${percentile(m.ttftMs, 50).toFixed(1)} ms, ${m.tokensPerSecond.toFixed(0)} tok/s, ` +
              `${m.completions} done (${m.completionsPerSecond.toFixed(1)}/s), ${m.errors} errors${m.errors ? ` (${m.errorSamples.join('; ')})` : ''}, ` +
              `server ${m.serverCpuMsPerCompletion === null ? '–' : m.serverCpuMsPerCompletion.toFixed(2)} ms CPU/completion; % of a core: ` +
              `server ${(((m.serverCpuMs ?? 0) * 100) / m.windowMs).toFixed(0)}, postgres ${((m.postgresCpuMs * 100) / m.windowMs).toFixed(0)}, ` +
              `clients ${((m.clientCpuMs * 100) / m.windowMs).toFixed(0)}, others ${((m.othersCpuMs * 100) / m.windowMs).toFixed(0)}`,
          );
          await quiet(servers);
        }
      }
    }
  }
  await gateway.child.stop();
  await pool.stop();

  const rows = aggregate(measurements);
  const goals = targets(rows, statements, idle, { idleCount: options['skip-phases'] ? 0 : idleCount });
  const machine = {
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    postgres: String((await onPostgres('show server_version'))[0]?.server_version ?? '?'),
  };
  const met = goals.filter((g) => g.met === true).length;
  const missed = goals.filter((g) => g.met === false).length;
  const machineLine =
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, Postgres ${machine.postgres}; ` +
    `${workerCount} load workers; ${runs} interleaved run(s) per cell, medians` +
    (portkeyInstall ? `; Portkey ${portkeyInstall.gateway} with @hono/node-server ${portkeyInstall.honoNodeServer}, hono ${portkeyInstall.hono.join('/')}.` : '.');
  const legend =
    '× direct: delivered tokens/s over the direct arm of the same cell. Added TTFT: the arm minus direct in the same cell. ' +
    "CPU: the arm's server process (proxy, Portkey or gateway), per completion; latency cells from their start until every completion ended, " +
    'throughput cells in their window over the completions that ended in it. RSS: the peak of that process during the cell (the gateway is one process for every face). ' +
    'compl/s: latency cells over the time until the last completion ended, throughput cells in their window.';
  const sections = [
    summaryTable(rows),
    '',
    legend,
    '',
    `Targets (${met} met, ${missed} missed, ${goals.length - met - missed} not measured):\n\n${targetsText(goals, true)}`,
    '',
    statements.length ? `Postgres statements per completion (counted on the wire):\n\n${statementsTable(statements)}\n` : '',
    idle.length ? `Idle subscriptions:\n\n${idleTable(idle)}\n` : '',
    skipped.length ? `Not run: ${skipped.map((s) => `${s.arm} (${s.why})`).join('; ')}.\n` : '',
    machineLine,
  ];
  process.stdout.write(`${sections.join('\n')}\n`);
  const arms = Object.fromEntries(armNames.map((arm) => [arm, armSpecs[arm].describe]));
  const markdown = [
    `# npm run bench, ${new Date(started).toISOString()}`,
    '',
    ...sections,
    '',
    `Arms: ${Object.entries(arms).map(([arm, describe]) => `\`${arm}\` ${describe}`).join('; ')}.`,
    '',
    'All figures per cell:',
    '',
    detailTable(rows),
    '',
  ].join('\n');
  mkdirSync(dirname(jsonOut), { recursive: true });
  const json = {
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine,
    options: { runs, workerCount, concurrencies, profileNames, armNames, idleCount, quick },
    arms,
    skipped,
    portkey: portkeyInstall ?? null,
    rows,
    targets: goals,
    statements,
    idle,
    measurements,
  };
  writeFileSync(jsonOut, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(markdownOut, markdown);
  log(`wrote ${jsonOut.slice(repoRoot.length)} and ${markdownOut.slice(repoRoot.length)}`);
}

let cleaning: Promise<void> | undefined;
/** Stops every child and drops the database; once, however the run ends. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    if (database) await dropDatabase(database).catch((error: unknown) => log(`could not drop database ${database}: ${String(error)}`));
    agent.destroy();
  })();
  return cleaning;
}

stopOnSignals(cleanup, log);

try {
  await main();
} finally {
  await cleanup();
}
