import { setTimeout as sleep } from 'node:timers/promises';
import { now } from './clients/arm-client.js';
import { cpuMs, cpuMsOfAll, machineBusyMs, postgresPids, RssPeaks } from './proc-stats.js';
import type { CellSpec, Endpoints } from './protocol.js';
import type { WorkerPool } from './worker-pool.js';
import type { ArmName, ProfileName } from './workload.js';

export interface Processes {
  gateway: number;
  /** The comparison gateway (--compare-dir), when there is one. */
  gatewayBase?: number;
  proxy: number;
  upstream: number;
}

/** One run of one cell, as measured. Times in ms, sizes in bytes. */
export interface CellMeasurement {
  run: number;
  arm: ArmName;
  /** The arm as reported: `gateway-ws@base` for the comparison gateway. */
  label: string;
  profile: ProfileName;
  concurrency: number;
  completions: number;
  errors: number;
  errorSamples: string[];
  /** Start sent → first text event, per completion. */
  ttftMs: number[];
  /** Start sent → start mutation answered (two-step arms). */
  acceptMs: number[];
  windowMs: number;
  windowTokens: number;
  windowEvents: number;
  tokensPerSecond: number;
  eventsPerSecond: number;
  completionsPerSecond: number;
  /** CPU of the process between client and upstream (proxy or gateway) in the window; null for direct. */
  serverCpuMs: number | null;
  upstreamCpuMs: number;
  /** CPU of all load workers together in the window. */
  clientCpuMs: number;
  serverRssPeak: number | null;
  upstreamRssPeak: number;
  /** CPU of the Postgres server (all its processes) in the window. */
  postgresCpuMs: number;
  /** CPU of everything else on the machine in the window: other work that competed for the cores. */
  othersCpuMs: number;
}

function serverOf(cell: CellSpec, processes: Processes): number | null {
  if (cell.arm === 'direct') return null;
  if (cell.arm === 'proxy') return processes.proxy;
  return cell.base ? (processes.gatewayBase ?? processes.gateway) : processes.gateway;
}

function cpuOf(pids: readonly number[]): number[] {
  return pids.map((pid) => {
    try {
      return cpuMs(pid);
    } catch {
      throw new Error(`process ${pid} (gateway, proxy, upstream or a load worker) exited during the benchmark; see its output above`);
    }
  });
}

/**
 * Waits until the servers are idle again (under 5% of a core over 200 ms),
 * so that completions a cell left running do not bill the next one.
 */
export async function quiet(pids: readonly number[], maxMs = 10_000): Promise<void> {
  const until = now() + maxMs;
  let before = cpuOf(pids);
  while (now() < until) {
    await sleep(200);
    const after = cpuOf(pids);
    const busiest = Math.max(...after.map((v, i) => v - (before[i] as number)));
    before = after;
    if (busiest <= 10) return;
  }
}

export async function runCell(
  pool: WorkerPool,
  cell: CellSpec,
  run: number,
  apiKeys: readonly string[],
  endpoints: Endpoints,
  processes: Processes,
): Promise<CellMeasurement> {
  const workers = pool.workers.length;
  const slots = Array.from({ length: cell.concurrency }, (_, index) => ({ index, apiKey: apiKeys[index % apiKeys.length] as string }));
  await pool.all((w) => ({ type: 'prepare', cell, slots: slots.filter((s) => s.index % workers === w), endpoints }), 'prepared');

  const server = serverOf(cell, processes);
  const ours = [processes.gateway, ...(processes.gatewayBase ? [processes.gatewayBase] : []), processes.proxy, processes.upstream, ...pool.pids];
  const postgres = postgresPids();
  const snapshot = () => ({ ours: cpuOf(ours), postgres: cpuMsOfAll(postgres), machine: machineBusyMs() });
  const startAt = now() + 50;
  let from: ReturnType<typeof snapshot> | undefined;
  let to: ReturnType<typeof snapshot> | undefined;
  const fromTimer = setTimeout(() => (from = snapshot()), startAt + cell.windowFromMs - now());
  const toTimer = setTimeout(() => (to = snapshot()), startAt + cell.windowToMs - now());
  const rss = new RssPeaks(server === null ? [processes.upstream] : [server, processes.upstream]);
  const results = await pool.all(() => ({ type: 'go', startAt }), 'result');
  const peaks = rss.stop();
  clearTimeout(fromTimer);
  clearTimeout(toTimer);
  to ??= snapshot();
  from ??= to;
  const first = from;
  const cpu = new Map(ours.map((pid, i) => [pid, (to?.ours[i] ?? 0) - (first.ours[i] ?? 0)]));
  let postgresCpuMs = 0;
  for (const [pid, ms] of to.postgres) postgresCpuMs += ms - (first.postgres.get(pid) ?? ms);
  const oursCpuMs = [...cpu.values()].reduce((a, b) => a + b, 0);
  const othersCpuMs = to.machine - first.machine - oursCpuMs - postgresCpuMs;

  const samples = results.flatMap((r) => r.result.samples);
  const failed = samples.filter((s) => s.error !== null && s.error !== 'aborted');
  const succeeded = samples.filter((s) => s.error === null && s.finishedAt !== null);
  const windowTokens = results.reduce((sum, r) => sum + r.result.windowTokens, 0);
  const windowEvents = results.reduce((sum, r) => sum + r.result.windowEvents, 0);
  const windowMs = cell.windowToMs - cell.windowFromMs;
  const lastFinish = Math.max(startAt + cell.durationMs, ...succeeded.map((s) => s.finishedAt as number));
  const spanMs = cell.drain ? lastFinish - startAt : cell.durationMs;

  return {
    run,
    arm: cell.arm,
    label: cell.base ? `${cell.arm}@base` : cell.arm,
    profile: cell.profile,
    concurrency: cell.concurrency,
    completions: succeeded.length,
    errors: failed.length,
    errorSamples: [...new Set(failed.map((s) => s.error as string))].slice(0, 3),
    ttftMs: samples.flatMap((s) => (s.firstTokenAt === null ? [] : [s.firstTokenAt - s.startedAt])),
    acceptMs: samples.flatMap((s) => (s.acceptedAt === null ? [] : [s.acceptedAt - s.startedAt])),
    windowMs,
    windowTokens,
    windowEvents,
    tokensPerSecond: (windowTokens * 1000) / windowMs,
    eventsPerSecond: (windowEvents * 1000) / windowMs,
    completionsPerSecond: (succeeded.length * 1000) / spanMs,
    serverCpuMs: server === null ? null : (cpu.get(server) ?? 0),
    upstreamCpuMs: cpu.get(processes.upstream) ?? 0,
    clientCpuMs: pool.pids.reduce((sum, pid) => sum + (cpu.get(pid) ?? 0), 0),
    serverRssPeak: server === null ? null : (peaks.get(server) ?? null),
    upstreamRssPeak: peaks.get(processes.upstream) ?? 0,
    postgresCpuMs,
    othersCpuMs,
  };
}
