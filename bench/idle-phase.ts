import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fieldOf, type GraphQLResult } from './clients/event-tally.js';
import { postJson } from './clients/http.js';
import { quiet } from './cell-runner.js';
import { rssBytes } from './proc-stats.js';
import type { Endpoints } from './protocol.js';
import type { WorkerPool } from './worker-pool.js';
import { BENCH_MODEL, startMutation } from './workload.js';

export interface IdleFigures {
  transport: 'ws' | 'sse';
  subscriptions: number;
  rssBefore: number;
  rssAfter: number;
  bytesPerSubscription: number;
  failures: string[];
}

async function steadyRss(pid: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < 5; i++) {
    sum += rssBytes(pid);
    await sleep(200);
  }
  return sum / 5;
}

/**
 * RSS per idle subscription: a few completions whose upstream never sends
 * a token, `count` subscribers spread over them (each on its own
 * connection, as separate browser tabs would be), and the gateway's RSS
 * before and after they are all open. Run on a fresh gateway: one whose heap
 * already grew under load would absorb them without a trace in RSS.
 */
export async function measureIdleSubscriptions(
  pool: WorkerPool,
  endpoints: Endpoints,
  gatewayPid: number,
  apiKeys: readonly string[],
  count: number,
  transport: 'ws' | 'sse',
  agent: Agent,
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
  await quiet([gatewayPid]);
  const rssBefore = await steadyRss(gatewayPid);
  const workers = pool.workers.length;
  const slots = Array.from({ length: count }, (_, index) => ({ index, apiKey: apiKeys[index % apiKeys.length] as string }));
  const opened = await pool.all(
    (w) => ({ type: 'idle-open', idle: { transport, completionIds, slots: slots.filter((s) => s.index % workers === w) }, endpoints }),
    'idle-opened',
  );
  await quiet([gatewayPid], 20_000);
  await sleep(1000);
  const rssAfter = await steadyRss(gatewayPid);
  await pool.all(() => ({ type: 'idle-close' }), 'idle-closed');
  return {
    transport,
    subscriptions: count,
    rssBefore,
    rssAfter,
    bytesPerSubscription: (rssAfter - rssBefore) / count,
    failures: opened.flatMap((o) => o.failures).slice(0, 5),
  };
}
