import { setTimeout as sleep } from 'node:timers/promises';
import { now } from './clients/arm-client.js';
import { cpuMs, cpuMsOfAll, machineBusyMs, postgresPids, RssPeaks } from './proc-stats.js';
import type { CellSpec, Endpoints } from './protocol.js';
import type { WorkerPool } from './worker-pool.js';
import { specOf, type ArmName, type ProfileName } from './workload.js';

export interface Processes {
  gateway: number;
  /** The comparison gateway (--compare-dir), when there is one. */
  gatewayBase?: number;
  proxy: number;
  /** Portkey, unless it does not run (--no-portkey). */
  portkey?: number;
  upstream: number;
}

/** The servers' pids: what runs between clients and the upstream, and the upstream. */
export function serverPids(processes: Processes): number[] {
  const { gateway, gatewayBase, proxy, portkey, upstream } = processes;
  return [gateway, ...(gatewayBase ? [gatewayBase] : []), proxy, ...(portkey ? [portkey] : []), upstream];
}

/** One run of one cell, as measured. Times in ms, sizes in bytes. */
export interface CellMeasurement {
  run: number;
  arm: ArmName;
  /** The arm as reported: `stream@base` for the comparison gateway. */
  label: string;
  profile: ProfileName;
  concurrency: number;
  /** Completions that succeeded, in the whole cell. */
  completions: number;
  /** Of them, those whose last event arrived inside the window. */
  windowCompletions: number;
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
  /** Draining cells: completions / (start → last one done); others: completions done in the window / window. */
  completionsPerSecond: number;
  /** CPU of the process between client and upstream (proxy, Portkey or gateway) in the window; null for direct. */
  serverCpuMs: number | null;
  /** The same from the cell's start until every client returned (all completions done, or aborted). */
  serverCellCpuMs: number | null;
  /**
   * The server's CPU per completion. Draining cells (latency): CPU from the
   * start until every completion ended / completions, so the costs at the
   * start and the end of each are in it. Others (throughput, a closed loop
   * whose unfinished completions are aborted): CPU in the window /
   * completions that ended in the window.
   */
  serverCpuMsPerCompletion: number | null;
  /** Postgres's CPU per completion, reckoned the same way. */
  postgresCpuMsPerCompletion: number | null;
  /** The cell's time from its start until every client returned. */
  cellMs: number;
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
  switch (specOf(cell.arm).server) {
    case 'none':
      return null;
    case 'proxy':
      return processes.proxy;
    case 'portkey':
      if (processes.portkey === undefined) throw new Error('the portkey arm runs without Portkey');
      return processes.portkey;
    case 'gateway':
      return cell.base ? (processes.gatewayBase ?? processes.gateway) : processes.gateway;
  }
}

function cpuOf(pids: readonly number[]): number[] {
  return pids.map((pid) => {
    try {
      return cpuMs(pid);
    } catch {
      throw new Error(`process ${pid} (gateway, proxy, Portkey, upstream or a load worker) exited during the benchmark; see its output above`);
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
  const ours = [...serverPids(processes), ...pool.pids];
  const postgres = postgresPids();
  const snapshot = () => ({ at: now(), ours: cpuOf(ours), postgres: cpuMsOfAll(postgres), machine: machineBusyMs() });
  type Snapshot = ReturnType<typeof snapshot>;
  const startAt = now() + 50;
  let begin: Snapshot | undefined;
  let from: Snapshot | undefined;
  let to: Snapshot | undefined;
  const timers = [
    setTimeout(() => (begin = snapshot()), startAt - now()),
    setTimeout(() => (from = snapshot()), startAt + cell.windowFromMs - now()),
    setTimeout(() => (to = snapshot()), startAt + cell.windowToMs - now()),
  ];
  const rss = new RssPeaks(server === null ? [processes.upstream] : [server, processes.upstream]);
  const results = await pool.all(() => ({ type: 'go', startAt }), 'result');
  const end = snapshot();
  const peaks = rss.stop();
  for (const timer of timers) clearTimeout(timer);
  to ??= end;
  from ??= to;
  begin ??= from;
  /** CPU ms of each of our processes, and of Postgres, between two snapshots. */
  const between = (a: Snapshot, b: Snapshot) => {
    const cpu = new Map(ours.map((pid, i) => [pid, (b.ours[i] ?? 0) - (a.ours[i] ?? 0)]));
    let postgresMs = 0;
    for (const [pid, ms] of b.postgres) postgresMs += ms - (a.postgres.get(pid) ?? ms);
    return { cpu, postgresMs };
  };
  const { cpu, postgresMs: postgresCpuMs } = between(from, to);
  const whole = between(begin, end);
  const oursCpuMs = [...cpu.values()].reduce((a, b) => a + b, 0);
  const othersCpuMs = to.machine - from.machine - oursCpuMs - postgresCpuMs;

  const samples = results.flatMap((r) => r.result.samples);
  const failed = samples.filter((s) => s.error !== null && s.error !== 'aborted');
  const succeeded = samples.filter((s) => s.error === null && s.finishedAt !== null);
  const windowTokens = results.reduce((sum, r) => sum + r.result.windowTokens, 0);
  const windowEvents = results.reduce((sum, r) => sum + r.result.windowEvents, 0);
  const windowMs = cell.windowToMs - cell.windowFromMs;
  const windowCompletions = succeeded.filter((s) => (s.finishedAt as number) >= startAt + cell.windowFromMs && (s.finishedAt as number) <= startAt + cell.windowToMs).length;
  const lastFinish = Math.max(startAt + cell.durationMs, ...succeeded.map((s) => s.finishedAt as number));
  const spanMs = lastFinish - startAt;
  const perCompletion = (cellMs: number, windowMs: number): number | null =>
    cell.drain ? (succeeded.length === 0 ? null : cellMs / succeeded.length) : windowCompletions === 0 ? null : windowMs / windowCompletions;
  const serverCpuMs = server === null ? null : (cpu.get(server) ?? 0);
  const serverCellCpuMs = server === null ? null : (whole.cpu.get(server) ?? 0);

  return {
    run,
    arm: cell.arm,
    label: cell.base ? `${cell.arm}@base` : cell.arm,
    profile: cell.profile,
    concurrency: cell.concurrency,
    completions: succeeded.length,
    windowCompletions,
    errors: failed.length,
    errorSamples: [...new Set(failed.map((s) => s.error as string))].slice(0, 3),
    ttftMs: samples.flatMap((s) => (s.firstTokenAt === null ? [] : [s.firstTokenAt - s.startedAt])),
    acceptMs: samples.flatMap((s) => (s.acceptedAt === null ? [] : [s.acceptedAt - s.startedAt])),
    windowMs,
    windowTokens,
    windowEvents,
    tokensPerSecond: (windowTokens * 1000) / windowMs,
    eventsPerSecond: (windowEvents * 1000) / windowMs,
    completionsPerSecond: cell.drain ? (succeeded.length * 1000) / spanMs : (windowCompletions * 1000) / windowMs,
    serverCpuMs,
    serverCellCpuMs,
    serverCpuMsPerCompletion: serverCpuMs === null || serverCellCpuMs === null ? null : perCompletion(serverCellCpuMs, serverCpuMs),
    postgresCpuMsPerCompletion: perCompletion(whole.postgresMs, postgresCpuMs),
    cellMs: end.at - startAt,
    upstreamCpuMs: cpu.get(processes.upstream) ?? 0,
    clientCpuMs: pool.pids.reduce((sum, pid) => sum + (cpu.get(pid) ?? 0), 0),
    serverRssPeak: server === null ? null : (peaks.get(server) ?? null),
    upstreamRssPeak: peaks.get(processes.upstream) ?? 0,
    postgresCpuMs,
    othersCpuMs,
  };
}
