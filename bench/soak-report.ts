import type { MoneyViolations } from '../test/helpers/money-violations.js';
import type { GatewaySample } from './soak-samples.js';
import type { NormalSamples, Timing } from './soak-traffic.js';
import type { Tally } from './soak-tally.js';
import { median, percentile } from './stats.js';

// The soak's figures and its markdown report, from the raw samples.

/** Phase boundaries, ms since the epoch: warm-up from `started`, then baseline, hostile, drain. */
export interface Phases {
  started: number;
  baseline: number;
  hostile: number;
  drain: number;
  drained: number;
}

type PhaseName = 'warm-up' | 'baseline' | 'hostile' | 'drain';

function phaseAt(phases: Phases, at: number): PhaseName {
  if (at < phases.baseline) return 'warm-up';
  if (at < phases.hostile) return 'baseline';
  if (at < phases.drain) return 'hostile';
  return 'drain';
}

/** What was left running after the drain: all zero when nothing leaked. */
export interface Leftovers {
  activeCompletions: number;
  keysWithActiveStreams: number;
  accountsWithReserved: number;
}

export interface SoakResult {
  phases: Phases;
  sampleEveryMs: number;
  gateway: GatewaySample[];
  normal: NormalSamples;
  tally: Tally;
  money: MoneyViolations;
  leftovers: Leftovers;
  /** tokenhub_active_subscriptions after the drain (a figure, not an invariant). */
  subscriptionsAfterDrain: number | null;
  /** The gateway's JavaScript heap right after a full collection. */
  retainedHeap: { baselineBytes: number; afterDrainBytes: number };
  limits: Record<string, string>;
}

const mb = (bytes: number) => bytes / 1024 / 1024;
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** Least-squares slope of RSS over time, in MB per minute. */
function rssSlopeMbPerMinute(samples: readonly GatewaySample[]): number {
  if (samples.length < 2) return Number.NaN;
  const xs = samples.map((s) => s.at / 60_000);
  const ys = samples.map((s) => mb(s.rssBytes));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return num / den;
}

/** Every sample covers the interval before it: its phase is that of the interval's middle. */
function samplesOf(result: SoakResult, phase: PhaseName): GatewaySample[] {
  return result.gateway.filter((s) => phaseAt(result.phases, s.at - result.sampleEveryMs / 2) === phase);
}

const timingsOf = (result: SoakResult, timings: readonly Timing[], phase: PhaseName) => timings.filter((t) => phaseAt(result.phases, t.at) === phase).map((t) => t.ms);

/** The figures the report shows, computed from the raw samples. */
export function figures(result: SoakResult) {
  const baseline = samplesOf(result, 'baseline');
  const hostile = samplesOf(result, 'hostile');
  const loop = (samples: GatewaySample[]) => {
    const values = samples.map((s) => s.eventLoopP99Ms).filter((v): v is number => v !== null);
    return { medianMs: median(values), maxMs: values.length ? Math.max(...values) : Number.NaN };
  };
  const probe = (phase: PhaseName) => {
    const ms = timingsOf(result, result.normal.probe, phase);
    return { count: ms.length, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
  };
  const completions = (phase: PhaseName) => {
    const seconds = ((phase === 'baseline' ? result.phases.hostile - result.phases.baseline : result.phases.drain - result.phases.hostile) / 1000) || Number.NaN;
    const rest = timingsOf(result, result.normal.rest, phase);
    const graphql = timingsOf(result, result.normal.graphql, phase);
    return { perSecond: (rest.length + graphql.length) / seconds, restP50Ms: percentile(rest, 50), graphqlP50Ms: percentile(graphql, 50) };
  };
  const probes = { baseline: probe('baseline'), hostile: probe('hostile') };
  return {
    rss: {
      startMb: baseline[0] ? mb(baseline[0].rssBytes) : Number.NaN,
      endOfHostileMb: hostile.at(-1) ? mb((hostile.at(-1) as GatewaySample).rssBytes) : Number.NaN,
      afterDrainMb: result.gateway.at(-1) ? mb((result.gateway.at(-1) as GatewaySample).rssBytes) : Number.NaN,
      peakMb: mb(Math.max(...result.gateway.map((s) => s.rssBytes))),
      hostileSlopeMbPerMinute: rssSlopeMbPerMinute(hostile),
    },
    eventLoopP99: { baseline: loop(baseline), hostile: loop(hostile) },
    probe: { ...probes, p50Ratio: probes.hostile.p50Ms / probes.baseline.p50Ms, p99Ratio: probes.hostile.p99Ms / probes.baseline.p99Ms },
    completions: { baseline: completions('baseline'), hostile: completions('hostile') },
  };
}

const moneyClean = (money: MoneyViolations) => Object.values(money).every((rows) => rows.length === 0);
const leftoversClean = (l: Leftovers) => l.activeCompletions === 0 && l.keysWithActiveStreams === 0 && l.accountsWithReserved === 0;

/** Whether the run passed: no defect, the books balance, nothing left active. */
export function passed(result: SoakResult): boolean {
  return result.tally.defectTotal === 0 && moneyClean(result.money) && leftoversClean(result.leftovers);
}

export function markdown(result: SoakResult): string {
  const f = figures(result);
  const { phases, tally } = result;
  const seconds = (from: number, to: number) => `${Math.round((to - from) / 1000)} s`;
  const lines = [
    `# npm run soak, ${new Date(phases.started).toISOString()}: ${passed(result) ? 'PASSED' : 'FAILED'}`,
    '',
    `One gateway (dist/main.js, no Redis) with ${Object.entries(result.limits).map(([k, v]) => `${k}=${v}`).join(', ')}. ` +
      `Warm-up ${seconds(phases.started, phases.baseline)}, baseline ${seconds(phases.baseline, phases.hostile)}, ` +
      `hostile ${seconds(phases.hostile, phases.drain)}, drain ${seconds(phases.drain, phases.drained)}; samples every ${result.sampleEveryMs / 1000} s.`,
    '',
    '| figure | baseline | hostile | hostile / baseline |',
    '|---|---|---|---|',
    `| probe \`{ viewer { balance } }\` p50 | ${fixed(f.probe.baseline.p50Ms)} ms | ${fixed(f.probe.hostile.p50Ms)} ms | ${fixed(f.probe.p50Ratio, 2)} |`,
    `| probe p99 | ${fixed(f.probe.baseline.p99Ms)} ms | ${fixed(f.probe.hostile.p99Ms)} ms | ${fixed(f.probe.p99Ratio, 2)} |`,
    `| probes | ${f.probe.baseline.count} | ${f.probe.hostile.count} | |`,
    `| event-loop delay p99, median of samples | ${fixed(f.eventLoopP99.baseline.medianMs)} ms | ${fixed(f.eventLoopP99.hostile.medianMs)} ms | |`,
    `| event-loop delay p99, max of samples | ${fixed(f.eventLoopP99.baseline.maxMs)} ms | ${fixed(f.eventLoopP99.hostile.maxMs)} ms | |`,
    `| normal completions / s (REST + GraphQL) | ${fixed(f.completions.baseline.perSecond)} | ${fixed(f.completions.hostile.perSecond)} | |`,
    `| REST completion p50 | ${fixed(f.completions.baseline.restP50Ms)} ms | ${fixed(f.completions.hostile.restP50Ms)} ms | |`,
    `| GraphQL completion p50 | ${fixed(f.completions.baseline.graphqlP50Ms)} ms | ${fixed(f.completions.hostile.graphqlP50Ms)} ms | |`,
    '',
    `RSS: ${fixed(f.rss.startMb)} MB at the start of the baseline, ${fixed(f.rss.endOfHostileMb)} MB at the end of the hostile phase, ` +
      `${fixed(f.rss.afterDrainMb)} MB after the drain (peak ${fixed(f.rss.peakMb)} MB); ` +
      `slope over the hostile phase ${fixed(f.rss.hostileSlopeMbPerMinute, 2)} MB/min (least squares).`,
    `Heap retained after a full GC: ${fixed(mb(result.retainedHeap.baselineBytes))} MB at the start of the baseline, ${fixed(mb(result.retainedHeap.afterDrainBytes))} MB after the drain.`,
    '',
    '## Clients',
    '',
    '| client | outcome | count | expected |',
    '|---|---|---|---|',
    ...tally.clients.flatMap((client) =>
      [...client.counts.entries()].map(([outcome, count]) => `| ${client.name} | ${outcome.replaceAll('|', '\\|')} | ${count} | ${client.expects(outcome) ? 'yes' : '**no**'} |`),
    ),
    '',
    '## Defects',
    '',
    tally.defectTotal === 0
      ? 'None: no HTTP 5xx, no INTERNAL_SERVER_ERROR, no error in the gateway log, every final status as expected, every revoked key\'s subscription ended, every answer as expected.'
      : [...tally.defectCounts.entries()].map(([kind, count]) => `- ${kind}: ${count}`).join('\n'),
    ...(tally.defects.length ? ['', 'First examples:', '', ...tally.defects.map((d) => `- ${d.at} ${d.client}: ${d.outcome}${d.detail ? ` (${d.detail.replaceAll('\n', ' ')})` : ''}`)] : []),
    '',
    '## Money',
    '',
    ...Object.entries(result.money).map(([invariant, rows]) => `- ${invariant}: ${rows.length === 0 ? 'holds' : `**${rows.length} violations** ${JSON.stringify(rows.slice(0, 5))}`}`),
    `- nothing left active: ${leftoversClean(result.leftovers) ? 'holds' : '**fails**'} (${result.leftovers.activeCompletions} completions PENDING/STREAMING, ` +
      `${result.leftovers.keysWithActiveStreams} keys with active_streams ≠ 0, ${result.leftovers.accountsWithReserved} accounts with reserved ≠ 0; ` +
      `tokenhub_active_subscriptions ${result.subscriptionsAfterDrain ?? '–'})`,
    '',
  ];
  return lines.join('\n');
}
