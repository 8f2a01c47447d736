import type { CellMeasurement } from './cell-runner.js';
import type { IdleFigures } from './idle-phase.js';
import type { StatementFigures } from './statements-phase.js';
import { median, percentile } from './stats.js';
import { arms, type ArmName, type ProfileName } from './workload.js';

/** One arm at one profile and concurrency: medians over its runs. */
export interface Row {
  profile: ProfileName;
  concurrency: number;
  arm: ArmName;
  /** The arm as reported: `gateway-ws@base` for the comparison gateway. */
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
  tokensVsDirect: number;
  tokensVsProxy: number;
  eventsPerSecond: number;
  tokensPerEvent: number;
  completionsPerSecond: number;
  serverCpuPer1kTokens: number | null;
  cpuVsProxy: number | null;
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
  value: string;
  met: boolean;
}

const MB = 1024 * 1024;

function perRun(runs: CellMeasurement[], figure: (m: CellMeasurement) => number | null): number {
  return median(runs.map(figure).filter((v): v is number => v !== null));
}

export function aggregate(measurements: CellMeasurement[]): Row[] {
  const groups = new Map<string, CellMeasurement[]>();
  for (const m of measurements) {
    const key = `${m.profile}|${m.concurrency}|${m.label}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const base = [...groups.values()].map((runs) => {
    const first = runs[0] as CellMeasurement;
    return {
      profile: first.profile,
      concurrency: first.concurrency,
      arm: first.arm,
      label: first.label,
      runs: runs.length,
      samplesPerRun: perRun(runs, (m) => m.ttftMs.length),
      ttftP50: perRun(runs, (m) => percentile(m.ttftMs, 50)),
      ttftP99: perRun(runs, (m) => percentile(m.ttftMs, 99)),
      acceptP50: first.arm === 'gateway-ws' || first.arm === 'gateway-sse' ? perRun(runs, (m) => percentile(m.acceptMs, 50)) : null,
      tokensPerSecond: perRun(runs, (m) => m.tokensPerSecond),
      eventsPerSecond: perRun(runs, (m) => m.eventsPerSecond),
      tokensPerEvent: perRun(runs, (m) => (m.windowEvents === 0 ? null : m.windowTokens / m.windowEvents)),
      completionsPerSecond: perRun(runs, (m) => m.completionsPerSecond),
      serverCpuPer1kTokens: first.arm === 'direct' ? null : perRun(runs, (m) => (m.serverCpuMs === null || m.windowTokens === 0 ? null : (m.serverCpuMs * 1000) / m.windowTokens)),
      serverRssMb: first.arm === 'direct' ? null : perRun(runs, (m) => (m.serverRssPeak === null ? null : m.serverRssPeak / MB)),
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
  const ratio = (a: number | null, b: number | null | undefined) => (a === null || b === null || b === undefined || b === 0 ? null : a / b);
  return base
    .map((r) => {
      const direct = find(r.profile, r.concurrency, 'direct');
      const proxy = find(r.profile, r.concurrency, 'proxy');
      return {
        ...r,
        addedTtftP50: direct && r.arm !== 'direct' ? r.ttftP50 - direct.ttftP50 : null,
        addedTtftP99: direct && r.arm !== 'direct' ? r.ttftP99 - direct.ttftP99 : null,
        tokensVsDirect: ratio(r.tokensPerSecond, direct?.tokensPerSecond) ?? Number.NaN,
        tokensVsProxy: ratio(r.tokensPerSecond, proxy?.tokensPerSecond) ?? Number.NaN,
        cpuVsProxy: ratio(r.serverCpuPer1kTokens, proxy?.serverCpuPer1kTokens),
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

function ratioText(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${fmt(value, 2)}×`;
}

/** The results as a Markdown table (it goes into the README as it is). */
export function table(rows: Row[]): string {
  const header = [
    'profile', 'conc', 'arm', 'TTFT p50', 'TTFT p99', 'added p50', 'added p99',
    'tokens/s', '× direct', '× proxy', 'events/s', 'tok/event', 'compl/s',
    'CPU ms/1k tok', '× proxy', 'RSS MB', '× proxy', 'errors', 'other load %',
  ];
  const lines = rows.map((r) => [
    r.profile, String(r.concurrency), r.label, fmt(r.ttftP50), fmt(r.ttftP99), signed(r.addedTtftP50), signed(r.addedTtftP99),
    fmt(r.tokensPerSecond, 0), ratioText(r.tokensVsDirect), ratioText(r.tokensVsProxy), fmt(r.eventsPerSecond, 0), fmt(r.tokensPerEvent),
    fmt(r.completionsPerSecond), fmt(r.serverCpuPer1kTokens), ratioText(r.cpuVsProxy), fmt(r.serverRssMb, 0), ratioText(r.rssVsProxy), String(r.errors), fmt(r.othersCpuPercent, 0),
  ]);
  const all = [header, header.map(() => '---'), ...lines];
  return all.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const gatewayArms: ArmName[] = ['gateway-ws', 'gateway-sse', 'stream-ws'];

/** The goals, each checked against the median figures. */
export function targets(rows: Row[], statements: StatementFigures[], idle: IdleFigures[]): Target[] {
  const out: Target[] = [];
  for (const arm of gatewayArms) {
    const latency = rows.find((r) => r.profile === 'latency' && r.concurrency === 50 && r.label === arm);
    if (latency) {
      out.push({
        goal: `${arm}: added TTFT p50 ≤ 3 ms and p99 ≤ 10 ms (latency, c=50)`,
        value: `${signed(latency.addedTtftP50)} / ${signed(latency.addedTtftP99)} ms`,
        met: (latency.addedTtftP50 ?? Infinity) <= 3 && (latency.addedTtftP99 ?? Infinity) <= 10,
      });
    }
    const throughput = rows.find((r) => r.profile === 'throughput' && r.concurrency === 200 && r.label === arm);
    if (throughput) {
      out.push({
        goal: `${arm}: delivered tokens/s ≥ 0.5 × direct (throughput, c=200)`,
        value: ratioText(throughput.tokensVsDirect),
        met: throughput.tokensVsDirect >= 0.5,
      });
    }
  }
  if (statements.length > 0) {
    const worst = Math.max(...statements.map((s) => s.statementsPerCompletion));
    out.push({ goal: '≤ 6 Postgres statements per completion, any length', value: `at most ${fmt(worst)}`, met: worst <= 6 });
  }
  for (const figures of idle) {
    out.push({
      goal: `≤ 30 KB RSS per idle subscription (${figures.transport}, ${figures.subscriptions} open)`,
      value: `${fmt(figures.bytesPerSubscription / 1024)} KB`,
      met: figures.bytesPerSubscription <= 30 * 1024,
    });
  }
  return out;
}

export function statementsTable(figures: StatementFigures[]): string {
  const lines = figures.map((f) => `| ${f.arm} | ${f.tokens} | ${fmt(f.readsPerCompletion)} | ${fmt(f.writesPerCompletion)} | ${fmt(f.statementsPerCompletion)} |`);
  return ['| path | tokens | reads | writes | statements / completion |', '| --- | --- | --- | --- | --- |', ...lines].join('\n');
}

export function idleTable(figures: IdleFigures[]): string {
  const lines = figures.map(
    (f) => `| ${f.transport} | ${f.subscriptions} | ${fmt(f.rssBefore / MB)} | ${fmt(f.rssAfter / MB)} | ${fmt(f.bytesPerSubscription / 1024)} |`,
  );
  return ['| transport | open | RSS before MB | RSS after MB | KB / subscription |', '| --- | --- | --- | --- | --- |', ...lines].join('\n');
}

export function targetsText(list: Target[]): string {
  return list.map((t) => `- ${t.met ? 'MET ' : 'MISS'} ${t.goal}: ${t.value}`).join('\n');
}
