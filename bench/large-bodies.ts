import { parseArgs } from 'node:util';
import { createDatabase, databaseUrl, dropDatabase } from '../test/helpers/postgres.js';
import { createCustomers } from './accounts.js';
import { forkReady, freePort, startGateway, type Child } from './children.js';
import { median } from './stats.js';

// `npm run bench:large-bodies`: what one large completion body costs the
// other accounts. The gateway (compiled, on Postgres) takes streamed
// completions whose bodies are 1, 8 and 32 MiB of conversation, and one of
// the most messages a request may hold (10,000 short ones), one at a time,
// while a probe asks GET /health back to back: the probe's longest wait is
// how long the event loop was held. The baseline, measured in the same
// run, is the same with a body of one short message.

const { values: options } = parseArgs({ options: { reps: { type: 'string', default: '3' }, sizes: { type: 'string', default: '1,8,32' } } });
const reps = Number(options.reps);
const sizesMiB = options.sizes.split(',').map(Number);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** A conversation of `turns` turns of `length` characters, then the question. */
function bodyOf(turns: number, length = 780): string {
  const messages = Array.from({ length: turns }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: 'x'.repeat(length) }));
  messages.push({ role: 'user', content: 'Benchmark [sim:words=4,ttft=0,itl=0]' });
  return JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 16, stream: true, messages });
}

/** One completion with `body`, and the longest /health wait while it ran. */
async function measure(baseUrl: string, key: string, body: string): Promise<{ requestMs: number; probeMs: number }> {
  const began = performance.now();
  let done = false;
  const request = fetch(`${baseUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }).then(async (response) => {
    if (response.status !== 200) throw new Error(`a completion answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    await response.text();
    done = true;
    return performance.now() - began;
  });
  let probeMs = 0;
  while (!done) {
    const sent = performance.now();
    await fetch(`${baseUrl}/health`).then((r) => r.text());
    probeMs = Math.max(probeMs, performance.now() - sent);
  }
  return { requestMs: await request, probeMs };
}

const children: Child[] = [];
const database = await createDatabase();
try {
  const { child: upstream, ready } = await forkReady<{ baseUrl: string }>('./upstream-process.ts');
  children.push(upstream);
  const port = await freePort();
  children.push(
    await startGateway({ databaseUrl: databaseUrl(database), upstreamBaseUrl: ready.baseUrl, adminToken: ADMIN_TOKEN, port, entry: 'compiled', env: { MAX_COMPLETION_REQUEST_BYTES: String(40 * 1024 * 1024) } }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const [key] = (await createCustomers(`${baseUrl}/graphql`, ADMIN_TOKEN, 1)) as [string];
  const rows: { size: string; requestMs: number; probeMs: number }[] = [];
  const bodies: [string, string][] = [
    ['one message', bodyOf(0)],
    // Turns of 780 characters, longer where that would pass the 10,000 messages a request may hold.
    ...sizesMiB.map((mib): [string, string] => {
      const turns = Math.min(9_000, Math.floor((mib * 1024 * 1024) / 800));
      return [`${mib} MiB`, bodyOf(turns, Math.floor((mib * 1024 * 1024) / turns) - 20)];
    }),
    ['9,999 short messages', bodyOf(9_999, 10)],
  ];
  for (const [size, body] of bodies) {
    await measure(baseUrl, key, body); // warm-up
    const runs = [];
    for (let rep = 0; rep < reps; rep++) runs.push(await measure(baseUrl, key, body));
    rows.push({ size, requestMs: median(runs.map((r) => r.requestMs)), probeMs: median(runs.map((r) => r.probeMs)) });
  }
  const baseline = rows[0]!.probeMs;
  console.log(`\nmedians of ${reps} completions each, one at a time, on Postgres`);
  console.log('| body | request ms | longest /health wait ms | × one message |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.size} | ${row.requestMs.toFixed(0)} | ${row.probeMs.toFixed(1)} | ${(row.probeMs / baseline).toFixed(1)} |`);
} finally {
  for (const child of children.reverse()) await child.stop();
  await dropDatabase(database).catch(() => undefined);
}
