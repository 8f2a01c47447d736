import type { CellMeasurement } from './cell-runner.js';
import type { IdleFigures } from './idle-phase.js';
import type { StatementFigures } from './statements-phase.js';
import { median, percentile } from './stats.js';
import { arms, isFace, specOf, type ArmName, type ProfileName } from './workload.js';

/** One arm at one profile and concurrency: medians over its runs. */
export interface Row {
  profile: ProfileName;
  concurrency: number;
  arm: ArmName;
  /** The arm as reported: `stream@base` for the comparison gateway. */
  label: string;
  runs: number;
  /** TTFT samples per run (median over runs). */
  samplesPerRun: number;
  ttftP50: number;
  ttftP99: number;
  /** Over the upstream alone (the direct arm of the same cell). */
  addedTtftP50: number | null;
  addedTtftP99: number | null;
  acceptP50: number | null;
  tokensPerSecond: number;
  /** Delivered tokens/s over direct's in the same cell. */
  tokensVsDirect: number;
  tokensVsProxy: number;
  eventsPerSecond: number;
  tokensPerEvent: number;
  completionsPerSecond: number;
  /** Completions/s over Portkey's in the same cell. */
  completionsVsPortkey: number | null;
  /** CPU of the arm's server process per completion (see CellMeasurement.serverCpuMsPerCompletion). */
  serverCpuMsPerCompletion: number | null;
  cpuPerCompletionVsProxy: number | null;
  postgresCpuMsPerCompletion: number | null;
  serverCpuPer1kTokens: number | null;
  /** Peak RSS of the arm's server process during the cell. */
  serverRssMb: number | null;
  rssVsProxy: number | null;
  upstreamCpuPer1kTokens: number;
  /** Load workers' CPU, in % of one core. */
  clientCpuPercent: number;
  /** Postgres's CPU, in % of one core. */
  postgresCpuPercent: number;
  /** Everything else on the machine (other people's work), in % of one core: high values mean the figures are disturbed. */
  othersCpuPercent: number;
  errors: number;
  errorSamples: string[];
}

export interface Target {
  goal: string;
  /** The face it is about, for per-face goals. */
  arm?: ArmName;
  /** The goal without the face's name, for per-face goals. */
  check?: string;
  value: string;
  /** null: not measured in this run (a cell or phase it needs did not run). */
  met: boolean | null;
}

const MB = 1024 * 1024;

function perRun(runs: CellMeasurement[], figure: (m: CellMeasurement) => number | null): number {
  return median(runs.map(figure).filter((v): v is number => v !== null));
}

const orNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

export function aggregate(measurements: CellMeasurement[]): Row[] {
  const groups = new Map<string, CellMeasurement[]>();
  for (const m of measurements) {
    const key = `${m.profile}|${m.concurrency}|${m.label}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const base = [...groups.values()].map((runs) => {
    const first = runs[0] as CellMeasurement;
    const served = specOf(first.arm).server !== 'none';
    return {
      profile: first.profile,
      concurrency: first.concurrency,
      arm: first.arm,
      label: first.label,
      runs: runs.length,
      samplesPerRun: perRun(runs, (m) => m.ttftMs.length),
      ttftP50: perRun(runs, (m) => percentile(m.ttftMs, 50)),
      ttftP99: perRun(runs, (m) => percentile(m.ttftMs, 99)),
      acceptP50: specOf(first.arm).twoStep ? perRun(runs, (m) => percentile(m.acceptMs, 50)) : null,
      tokensPerSecond: perRun(runs, (m) => m.tokensPerSecond),
      eventsPerSecond: perRun(runs, (m) => m.eventsPerSecond),
      tokensPerEvent: perRun(runs, (m) => (m.windowEvents === 0 ? null : m.windowTokens / m.windowEvents)),
      completionsPerSecond: perRun(runs, (m) => m.completionsPerSecond),
      serverCpuMsPerCompletion: served ? orNull(perRun(runs, (m) => m.serverCpuMsPerCompletion)) : null,
      postgresCpuMsPerCompletion: orNull(perRun(runs, (m) => m.postgresCpuMsPerCompletion)),
      serverCpuPer1kTokens: served ? orNull(perRun(runs, (m) => (m.serverCpuMs === null || m.windowTokens === 0 ? null : (m.serverCpuMs * 1000) / m.windowTokens))) : null,
      serverRssMb: served ? orNull(perRun(runs, (m) => (m.serverRssPeak === null ? null : m.serverRssPeak / MB))) : null,
      upstreamCpuPer1kTokens: perRun(runs, (m) => (m.windowTokens === 0 ? null : (m.upstreamCpuMs * 1000) / m.windowTokens)),
      clientCpuPercent: perRun(runs, (m) => (m.clientCpuMs * 100) / m.windowMs),
      postgresCpuPercent: perRun(runs, (m) => (m.postgresCpuMs * 100) / m.windowMs),
      othersCpuPercent: perRun(runs, (m) => (m.othersCpuMs * 100) / m.windowMs),
      errors: runs.reduce((sum, m) => sum + m.errors, 0),
      errorSamples: [...new Set(runs.flatMap((m) => m.errorSamples))].slice(0, 3),
    };
  });
  const find = (profile: ProfileName, concurrency: number, arm: ArmName) =>
    base.find((r) => r.profile === profile && r.concurrency === concurrency && r.label === arm);
  const ratio = (a: number | null, b: number | null | undefined) => (a === null || b === null || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b) ? null : a / b);
  return base
    .map((r) => {
      const direct = find(r.profile, r.concurrency, 'direct');
      const proxy = find(r.profile, r.concurrency, 'proxy');
      const portkey = find(r.profile, r.concurrency, 'portkey');
      return {
        ...r,
        addedTtftP50: direct && r.arm !== 'direct' ? orNull(r.ttftP50 - direct.ttftP50) : null,
        addedTtftP99: direct && r.arm !== 'direct' ? orNull(r.ttftP99 - direct.ttftP99) : null,
        tokensVsDirect: ratio(r.tokensPerSecond, direct?.tokensPerSecond) ?? Number.NaN,
        tokensVsProxy: ratio(r.tokensPerSecond, proxy?.tokensPerSecond) ?? Number.NaN,
        completionsVsPortkey: ratio(r.completionsPerSecond, portkey?.completionsPerSecond),
        cpuPerCompletionVsProxy: ratio(r.serverCpuMsPerCompletion, proxy?.serverCpuMsPerCompletion),
        rssVsProxy: ratio(r.serverRssMb, proxy?.serverRssMb),
      };
    })
    .sort((a, b) => a.profile.localeCompare(b.profile) || a.concurrency - b.concurrency || arms.indexOf(a.arm) - arms.indexOf(b.arm) || a.label.localeCompare(b.label));
}

function fmt(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function signed(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '–';
  return `${value >= 0 ? '+' : ''}${fmt(value)}`;
}

function ratioText(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${fmt(value, digits)}×`;
}

function markdown(header: string[], lines: string[][]): string {
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The table: per cell, the arm against direct, with the server's cost per completion. */
export function summaryTable(rows: Row[]): string {
  const header = ['profile', 'c', 'arm', '× direct', 'added TTFT p50 / p99 ms', 'CPU ms / completion', 'RSS MB', 'compl/s', 'errors'];
  const lines = rows.map((r) => [
    r.profile,
    String(r.concurrency),
    r.label,
    fmt(r.tokensVsDirect, 2),
    r.arm === 'direct' ? '–' : `${signed(r.addedTtftP50)} / ${signed(r.addedTtftP99)}`,
    fmt(r.serverCpuMsPerCompletion, 2),
    fmt(r.serverRssMb, 0),
    fmt(r.completionsPerSecond),
    String(r.errors),
  ]);
  return markdown(header, lines);
}

/** Everything per cell (it goes to latest.md). */
export function detailTable(rows: Row[]): string {
  const header = [
    'profile', 'c', 'arm', 'TTFT p50', 'TTFT p99', 'added p50', 'added p99', 'accept p50',
    'tokens/s', '× direct', '× proxy', 'events/s', 'tok/event', 'compl/s', '× Portkey',
    'CPU ms/compl', '× proxy', 'Postgres ms/compl', 'CPU ms/1k tok', 'RSS MB', '× proxy', 'clients %', 'Postgres %', 'other load %', 'errors',
  ];
  const lines = rows.map((r) => [
    r.profile, String(r.concurrency), r.label, fmt(r.ttftP50), fmt(r.ttftP99), signed(r.addedTtftP50), signed(r.addedTtftP99), fmt(r.acceptP50),
    fmt(r.tokensPerSecond, 0), ratioText(r.tokensVsDirect), ratioText(r.tokensVsProxy), fmt(r.eventsPerSecond, 0), fmt(r.tokensPerEvent),
    fmt(r.completionsPerSecond), ratioText(r.completionsVsPortkey), fmt(r.serverCpuMsPerCompletion, 2), ratioText(r.cpuPerCompletionVsProxy),
    fmt(r.postgresCpuMsPerCompletion, 2), fmt(r.serverCpuPer1kTokens), fmt(r.serverRssMb, 0), ratioText(r.rssVsProxy),
    fmt(r.clientCpuPercent, 0), fmt(r.postgresCpuPercent, 0), fmt(r.othersCpuPercent, 0),
    r.errors ? `${r.errors} (${r.errorSamples.join('; ')})` : '0',
  ]);
  return markdown(header, lines);
}

/**
 * The targets, each checked against the median figures, for every
 * face of the gateway that ran. A target whose cell did not run (a --quick
 * run at other concurrencies, --no-portkey) is listed as not measured.
 */
export function targets(rows: Row[], statements: StatementFigures[], idle: IdleFigures[], options: { idleCount: number }): Target[] {
  const out: Target[] = [];
  const cell = (profile: ProfileName, concurrency: number, label: string) => rows.find((r) => r.profile === profile && r.concurrency === concurrency && r.label === label);
  const faces = arms.filter((arm) => isFace(arm) && rows.some((r) => r.label === arm));
  const missing = (goal: string, why: string) => out.push({ goal, value: `not measured (${why})`, met: null });
  /** Per-face goals read `<cell>: <face> <check>`. */
  const perFace = (arm: ArmName, cellName: string, check: string) => ({ goal: `${cellName}: ${arm} ${check}`, arm, check: `${cellName}: ${check}` });
  const missingFor = (goal: ReturnType<typeof perFace>, why: string) => out.push({ ...goal, value: `not measured (${why})`, met: null });

  for (const arm of faces) {
    const at50 = cell('latency', 50, arm);
    const at200 = cell('latency', 200, arm);
    const proxy200 = cell('latency', 200, 'proxy');
    const busy = cell('throughput', 200, arm);
    const portkey = cell('throughput', 200, 'portkey');

    let goal = perFace(arm, 'latency c=200', 'added TTFT p50 ≤ 5 ms and p99 ≤ 30 ms');
    if (at200 && at200.addedTtftP50 !== null && at200.addedTtftP99 !== null) {
      out.push({ ...goal, value: `${signed(at200.addedTtftP50)} / ${signed(at200.addedTtftP99)} ms`, met: at200.addedTtftP50 <= 5 && at200.addedTtftP99 <= 30 });
    } else missingFor(goal, 'needs the latency profile at c=200 with direct');

    goal = perFace(arm, 'latency c=200', "CPU per completion ≤ 1.5× the proxy's");
    if (at200?.serverCpuMsPerCompletion != null && proxy200?.serverCpuMsPerCompletion != null) {
      const r = at200.serverCpuMsPerCompletion / proxy200.serverCpuMsPerCompletion;
      out.push({ ...goal, value: `${ratioText(r)} (${fmt(at200.serverCpuMsPerCompletion, 2)} vs ${fmt(proxy200.serverCpuMsPerCompletion, 2)} ms)`, met: r <= 1.5 });
    } else missingFor(goal, 'needs the latency profile at c=200 with the proxy');

    goal = perFace(arm, 'latency c=50', 'added TTFT p50 ≤ 3 ms and p99 ≤ 10 ms');
    if (at50 && at50.addedTtftP50 !== null && at50.addedTtftP99 !== null) {
      out.push({ ...goal, value: `${signed(at50.addedTtftP50)} / ${signed(at50.addedTtftP99)} ms`, met: at50.addedTtftP50 <= 3 && at50.addedTtftP99 <= 10 });
    } else missingFor(goal, 'needs the latency profile at c=50 with direct');

    goal = perFace(arm, 'throughput c=200', "≥ 2× Portkey's completions per second");
    if (busy && portkey && busy.completionsVsPortkey !== null) {
      out.push({ ...goal, value: `${ratioText(busy.completionsVsPortkey)} (${fmt(busy.completionsPerSecond)} vs ${fmt(portkey.completionsPerSecond)} /s)`, met: busy.completionsVsPortkey >= 2 });
    } else missingFor(goal, busy ? 'Portkey did not run' : 'needs the throughput profile at c=200');

    goal = perFace(arm, 'throughput c=200', 'CPU per completion ≤ 2 ms');
    if (busy?.serverCpuMsPerCompletion != null) out.push({ ...goal, value: `${fmt(busy.serverCpuMsPerCompletion, 2)} ms`, met: busy.serverCpuMsPerCompletion <= 2 });
    else missingFor(goal, 'needs the throughput profile at c=200');
  }

  // One process serves every face, so its RSS is one figure: the highest peak in any c=200 cell.
  const gatewayCells = rows.filter((r) => r.concurrency === 200 && isFace(r.arm) && r.label === r.arm && r.serverRssMb !== null);
  const goal = 'c=200: gateway RSS ≤ 300 MB (the highest peak of its c=200 cells)';
  if (gatewayCells.length > 0) {
    const worst = gatewayCells.reduce((a, b) => ((b.serverRssMb ?? 0) > (a.serverRssMb ?? 0) ? b : a));
    out.push({ goal, value: `${fmt(worst.serverRssMb, 0)} MB (${worst.profile} ${worst.arm})`, met: (worst.serverRssMb ?? Infinity) <= 300 });
  } else missing(goal, 'needs a cell at c=200');

  for (const transport of ['ws', 'sse'] as const) {
    const figures = idle.find((f) => f.transport === transport);
    const goal = `idle subscriptions over ${transport === 'ws' ? 'graphql-ws' : 'SSE'} ≤ 20 KB each`;
    if (figures) {
      const failed = figures.failures.length ? `; ${figures.failures.length}+ failed to open: ${figures.failures[0]}` : '';
      out.push({ goal, value: `${fmt(figures.bytesPerSubscription / 1024)} KB retained (${figures.subscriptions} opened beside ${figures.subscriptions} open; ${fmt(figures.uncollectedBytesPerSubscription / 1024)} KB before a full GC)${failed}`, met: figures.bytesPerSubscription <= 20 * 1024 && figures.failures.length === 0 });
    } else missing(goal, options.idleCount > 0 ? 'phase skipped' : '--idle 0');
  }

  if (statements.length > 0) {
    const worst = statements.reduce((a, b) => (b.statementsPerCompletion > a.statementsPerCompletion ? b : a));
    out.push({ goal: 'statements per completion ≤ 5 (every face, 16 and 1,024 tokens)', value: `at most ${fmt(worst.statementsPerCompletion)} (${worst.arm}, ${worst.tokens} tokens)`, met: worst.statementsPerCompletion <= 5 });
  } else missing('statements per completion ≤ 5', 'phase skipped');
  return out;
}

export function statementsTable(figures: StatementFigures[]): string {
  const lines = figures.map((f) => [f.arm, String(f.tokens), fmt(f.readsPerCompletion), fmt(f.writesPerCompletion), fmt(f.statementsPerCompletion)]);
  return markdown(['face', 'tokens', 'reads', 'writes', 'statements / completion'], lines);
}

export function idleTable(figures: IdleFigures[]): string {
  const lines = figures.map((f) => [f.transport, String(f.subscriptions), fmt(f.rssBefore / MB), fmt(f.rssAfter / MB), fmt(f.bytesPerSubscription / 1024), fmt(f.uncollectedBytesPerSubscription / 1024), String(f.failures.length)]);
  return markdown(['transport', 'per batch', 'RSS, first batch open MB', 'RSS, both open MB', 'KB retained / subscription', 'KB / subscription before GC', 'failures'], lines);
}

/**
 * One line per target; with `compact`, the targets not measured are folded
 * into one line per goal and reason, naming the faces (a --quick run has
 * many).
 */
export function targetsText(list: Target[], compact = false): string {
  const line = (t: Target) => `- ${t.met === null ? 'N/A ' : t.met ? 'MET ' : 'MISS'} ${t.goal}: ${t.value}`;
  if (!compact) return list.map(line).join('\n');
  const folded = new Map<string, Target[]>();
  const lines: (string | Target[])[] = [];
  for (const t of list) {
    if (t.met !== null || t.arm === undefined || t.check === undefined) {
      lines.push(line(t));
      continue;
    }
    const key = `${t.check}|${t.value}`;
    const group = folded.get(key);
    if (group) group.push(t);
    else {
      const fresh = [t];
      folded.set(key, fresh);
      lines.push(fresh);
    }
  }
  return lines
    .map((l) => (typeof l === 'string' ? l : l.length === 1 ? line(l[0] as Target) : `- N/A  ${(l[0] as Target).check} (${l.map((t) => t.arm).join(', ')}): ${(l[0] as Target).value}`))
    .join('\n');
}
