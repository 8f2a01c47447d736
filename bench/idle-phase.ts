import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage } from './inspector-gc.js';
import { fieldOf, type GraphQLResult } from './clients/event-tally.js';
import { postJson } from './clients/http.js';
import { quiet } from './cell-runner.js';
import { rssBytes } from './proc-stats.js';
import type { Endpoints } from './protocol.js';
import type { WorkerPool } from './worker-pool.js';
import { BENCH_MODEL, startMutation } from './workload.js';

export interface IdleFigures {
  transport: 'ws' | 'sse';
  /** Subscriptions in the measured (second) batch; as many were open before it. */
  subscriptions: number;
  /** RSS with the first batch open, and with both, each right after a full garbage collection. */
  rssBefore: number;
  rssAfter: number;
  /** What each subscription of the second batch retains: the difference over its count. */
  bytesPerSubscription: number;
  /** The same without the last collection: what RSS grew by, garbage of the opening included. */
  uncollectedBytesPerSubscription: number;
  failures: string[];
}

async function steadyRss(pid: number, collect?: () => Promise<void>): Promise<number> {
  await collect?.();
  let sum = 0;
  for (let i = 0; i < 5; i++) {
    sum += rssBytes(pid);
    await sleep(200);
  }
  return sum / 5;
}

/**
 * RSS per idle subscription: a few completions whose upstream never sends
 * a token, subscribers spread over them (each on its own connection, as
 * separate browser tabs would be). A first batch of `count` is opened and
 * left open; the figure is what a second batch of `count` adds to RSS.
 * Opening the first batch grows the heap's young generation and fills
 * caches, once per process: measured from a cold start, those tens of MB
 * would be billed to the subscriptions, whose own cost is the marginal one.
 * Run on a fresh gateway: one whose heap already grew under load would
 * absorb them without a trace in RSS. RSS is read twice at each point:
 * as it is, and after a full garbage collection (see inspector-gc.ts);
 * the first holds whatever garbage of the opening V8 has not collected
 * yet, and so varies with when it next does.
 */
export async function measureIdleSubscriptions(
  pool: WorkerPool,
  endpoints: Endpoints,
  gatewayPid: number,
  apiKeys: readonly string[],
  count: number,
  transport: 'ws' | 'sse',
  agent: Agent,
  inspectPort: number,
): Promise<IdleFigures> {
  const url = new URL(endpoints.graphql);
  const apiKey = apiKeys[0] as string;
  const body = JSON.stringify({
    query: startMutation,
    variables: { input: { model: BENCH_MODEL, maxTokens: 16, messages: [{ role: 'user', content: 'Idle [sim:words=1,ttft=600000]' }] } },
  });
  const completionIds: string[] = [];
  for (let i = 0; i < 10; i++) {
    const result = (await postJson({ url, body, headers: { authorization: `Bearer ${apiKey}` }, agent, signal: new AbortController().signal })) as GraphQLResult;
    completionIds.push(fieldOf<{ id: string }>(result, 'startCompletion').id);
  }
  const workers = pool.workers.length;
  const open = async (batch: number): Promise<string[]> => {
    const slots = Array.from({ length: count }, (_, i) => ({ index: batch * count + i, apiKey: apiKeys[i % apiKeys.length] as string }));
    const opened = await pool.all(
      (w) => ({ type: 'idle-open', idle: { transport, completionIds, slots: slots.filter((s) => s.index % workers === w) }, endpoints }),
      'idle-opened',
    );
    await quiet([gatewayPid], 20_000);
    await sleep(1000);
    return opened.flatMap((o) => o.failures);
  };
  const collect = () => collectGarbage(inspectPort);
  const failures = await open(0);
  const rssBefore = await steadyRss(gatewayPid, collect);
  failures.push(...(await open(1)));
  const uncollectedAfter = await steadyRss(gatewayPid);
  const rssAfter = await steadyRss(gatewayPid, collect);
  await pool.all(() => ({ type: 'idle-close' }), 'idle-closed');
  return {
    transport,
    subscriptions: count,
    rssBefore,
    rssAfter,
    bytesPerSubscription: (rssAfter - rssBefore) / count,
    uncollectedBytesPerSubscription: (uncollectedAfter - rssBefore) / count,
    failures: failures.slice(0, 5),
  };
}
