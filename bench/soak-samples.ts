import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { rssBytes } from './proc-stats.js';
import type { Tally } from './soak-tally.js';

// The gateway seen from outside while the soak runs: its resident memory
// from /proc, its event-loop delay from its own Prometheus metrics, and
// what it logs.

export interface GatewaySample {
  at: number;
  rssBytes: number;
  /** prom-client's p99 of the event-loop delay since the previous scrape; null when /metrics did not answer. */
  eventLoopP99Ms: number | null;
}

/** Read from the metrics text (prom-client resets its histogram at each scrape, so each sample covers the last interval). */
async function eventLoopP99Ms(metricsUrl: string): Promise<number | null> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
    const match = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
    return match ? Number(match[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Samples the gateway every `everyMs` until stopped; the first sample is taken at once. */
export function sampleGateway(pid: number, baseUrl: string, everyMs: number): { samples: GatewaySample[]; stop(): void } {
  const samples: GatewaySample[] = [];
  const sample = async () => {
    const at = Date.now();
    let rss: number;
    try {
      rss = rssBytes(pid);
    } catch {
      // The gateway exited (a Ctrl-C stops it): nothing more to sample.
      clearInterval(timer);
      return;
    }
    samples.push({ at, rssBytes: rss, eventLoopP99Ms: await eventLoopP99Ms(`${baseUrl}/metrics`) });
  };
  const timer = setInterval(() => void sample(), everyMs);
  void sample();
  return { samples, stop: () => clearInterval(timer) };
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * Counts the gateway's log lines (pino JSON on stdout) by level and message,
 * as the outcomes of one more client: an error or fatal line is the gateway
 * saying something went wrong, whether or not a client noticed.
 */
export function countGatewayLog(stdout: Readable, tally: Tally): void {
  const log = tally.client('gateway log (stdout)', (line) => !/^(error|fatal) /.test(line), 'gateway logged an error');
  createInterface({ input: stdout }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      log.record(`${LEVELS[entry.level ?? 0] ?? String(entry.level)} ${entry.msg ?? ''}`, entry.err?.message ?? line);
    } catch {
      log.record(`unparsed ${line.slice(0, 80)}`);
    }
  });
}
