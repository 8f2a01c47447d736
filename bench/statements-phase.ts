import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { armClients } from './clients/arm-clients.js';
import type { Endpoints } from './protocol.js';
import type { StatementCounter } from './statement-counter.js';
import { isFace, type ArmName, type Profile } from './workload.js';

export interface StatementFigures {
  arm: ArmName;
  /** Content tokens of each completion. */
  tokens: number;
  completions: number;
  readsPerCompletion: number;
  writesPerCompletion: number;
  statementsPerCompletion: number;
  byText: Record<string, number>;
}

/**
 * Postgres statements per completion, for each face of the gateway among
 * `faces` (other arms are ignored) and for a short and a long answer:
 * `count` completions one after another, everything the gateway sends
 * meanwhile counted on the wire. Each flow runs once before
 * counting, so that the once-a-minute lastUsedAt write of the key is not
 * billed to it.
 */
export async function measureStatements(
  counter: StatementCounter,
  endpoints: Endpoints,
  faces: readonly ArmName[],
  apiKey: string,
  agent: Agent,
  count: number,
  lengths: readonly number[] = [16, 1024],
): Promise<StatementFigures[]> {
  const figures: StatementFigures[] = [];
  for (const tokens of lengths) {
    const profile: Profile = { name: 'throughput', ttftMs: 0, interTokenMs: 0, tokens };
    for (const arm of faces.filter(isFace)) {
      const client = armClients[arm]({ endpoints, base: false, apiKey, profile, agent });
      await client.connect();
      const signal = new AbortController().signal;
      const warm = await client.complete(() => undefined, signal);
      if (warm.error) throw new Error(`${arm} warm-up completion failed: ${warm.error}`);
      await sleep(100);
      counter.reset();
      for (let i = 0; i < count; i++) {
        const sample = await client.complete(() => undefined, signal);
        if (sample.error) throw new Error(`${arm} completion failed: ${sample.error}`);
      }
      // The settlement commits before the last event is sent; nothing else is pending.
      await sleep(100);
      const { reads, writes, byText } = counter.counts;
      client.close();
      figures.push({
        arm,
        tokens,
        completions: count,
        readsPerCompletion: reads / count,
        writesPerCompletion: writes / count,
        statementsPerCompletion: (reads + writes) / count,
        // A copy: the next flow's warm-up still counts into this object until its reset.
        byText: { ...byText },
      });
    }
  }
  return figures;
}
