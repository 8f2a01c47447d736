import { readdirSync, readFileSync } from 'node:fs';

// Another process's CPU time and memory, read from /proc so that the
// measured process needs no code of its own for it.

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of `pid` so far, in ms (10 ms resolution). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; the fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resident set size of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples the peak RSS of some processes until stopped. */
export class RssPeaks {
  readonly peaks = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(pids: readonly number[], everyMs = 100) {
    const sample = (): void => {
      for (const pid of pids) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, rssBytes(pid)));
    };
    sample();
    this.#timer = setInterval(sample, everyMs);
  }

  stop(): Map<number, number> {
    clearInterval(this.#timer);
    return this.peaks;
  }
}

/** CPU time all cores spent busy so far (everything but idle and iowait), in ms. */
export function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return ((total - idle) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The pids of the local Postgres server's processes (its backends included). */
export function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
}

/** CPU ms of processes that may come and go (Postgres backends): a vanished one counts 0. */
export function cpuMsOfAll(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      out.set(pid, cpuMs(pid));
    } catch {
      // It exited.
    }
  }
  return out;
}
