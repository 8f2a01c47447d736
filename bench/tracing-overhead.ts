import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createDatabase, databaseUrl, dropDatabase } from '../test/helpers/postgres.js';
import { createCustomers } from './accounts.js';
import { childOf, forkReady, freePort, startGateway, type Child } from './children.js';
import { cpuMs } from './proc-stats.js';
import { percentile } from './stats.js';

// `npm run bench:tracing`: the gateway's CPU per completion with tracing off
// and on, measured in the same run: two gateways (compiled, as production
// runs), one without an OTLP endpoint and one exporting to a sink that
// accepts and drops every batch, fed the same REST streaming completions
// in alternating rounds. CPU is read from /proc for each gateway process
// alone, so the load generator, the simulator and the sink do not count.

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    completions: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '10' },
    tokens: { type: 'string', default: '64' },
  },
});
const rounds = Number(options.rounds);
const perRound = Number(options.completions);
const concurrency = Number(options.concurrency);
const tokens = Number(options.tokens);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
// Longer than the batch span processor's delay (5 s): a round's last spans are exported, and counted, within it.
const SETTLE_MS = 5_500;

/** An OTLP/HTTP endpoint that drops every batch, in a process of its own; GET answers what it received: { batches, bytes }. */
async function startSink(port: number): Promise<Child> {
  const script = `let batches = 0, bytes = 0;
    require('node:http').createServer((req, res) => {
      if (req.method === 'GET') return res.end(JSON.stringify({ batches, bytes }));
      req.on('data', (chunk) => (bytes += chunk.length));
      req.on('end', () => { batches++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); });
    }).listen(${port}, '127.0.0.1');`;
  const sink = childOf(spawn(process.execPath, ['-e', script], { stdio: 'inherit' }));
  for (let waited = 0; waited < 5_000; waited += 50) {
    if (await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)) return sink;
    await sleep(50);
  }
  throw new Error('the OTLP sink did not start');
}

/** One streamed REST completion, read to its end. */
async function complete(baseUrl: string, key: string): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: `Benchmark [sim:words=${tokens},ttft=0,itl=0]` }] }),
  });
  if (response.status !== 200) throw new Error(`a completion answered ${response.status}: ${await response.text()}`);
  await response.text();
}

async function phase(baseUrl: string, keys: readonly string[]): Promise<void> {
  let next = 0;
  const client = async () => {
    while (next < perRound) {
      const at = next++;
      await complete(baseUrl, keys[at % keys.length]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
}

interface Arm {
  name: 'off' | 'on';
  gateway: Child;
  baseUrl: string;
  keys: string[];
  msPerCompletion: number[];
}

const databases: string[] = [];
const children: Child[] = [];
try {
  const { child: upstream, ready } = await forkReady<{ baseUrl: string }>('./upstream-process.ts');
  children.push(upstream);
  const sinkPort = await freePort();
  children.push(await startSink(sinkPort));
  const arms: Arm[] = [];
  for (const name of ['off', 'on'] as const) {
    const database = await createDatabase();
    databases.push(database);
    const port = await freePort();
    const env: Record<string, string> = name === 'on' ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}` } : {};
    const gateway = await startGateway({ databaseUrl: databaseUrl(database), upstreamBaseUrl: ready.baseUrl, adminToken: ADMIN_TOKEN, port, entry: 'compiled', env });
    children.push(gateway);
    const baseUrl = `http://127.0.0.1:${port}`;
    arms.push({ name, gateway, baseUrl, keys: await createCustomers(`${baseUrl}/graphql`, ADMIN_TOKEN, concurrency), msPerCompletion: [] });
  }
  // A warm-up round each, not counted: JIT, pools and caches.
  for (const arm of arms) await phase(arm.baseUrl, arm.keys);
  for (let round = 0; round < rounds; round++) {
    // Alternating which goes first, so neither always runs on a machine the other just heated.
    for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) {
      const before = cpuMs(arm.gateway.pid);
      await phase(arm.baseUrl, arm.keys);
      await sleep(SETTLE_MS);
      arm.msPerCompletion.push((cpuMs(arm.gateway.pid) - before) / perRound);
    }
  }
  const median = (values: number[]) => percentile(values, 50);
  const [off, on] = arms as [Arm, Arm];
  console.log(`\n${rounds} rounds of ${perRound} streamed REST completions (${tokens} tokens, ${concurrency} at once) per gateway`);
  console.log('| tracing | gateway CPU ms per completion, median | rounds |');
  console.log('|---|---|---|');
  for (const arm of arms) console.log(`| ${arm.name} | ${median(arm.msPerCompletion).toFixed(2)} | ${arm.msPerCompletion.map((v) => v.toFixed(2)).join(', ')} |`);
  console.log(`\non / off = ${(median(on.msPerCompletion) / median(off.msPerCompletion)).toFixed(2)}`);
  const exported = (await (await fetch(`http://127.0.0.1:${sinkPort}/`)).json()) as { batches: number; bytes: number };
  console.log(`the sink received ${exported.batches} OTLP batches, ${(exported.bytes / 1024).toFixed(0)} KiB, for ${(rounds + 1) * perRound} traced completions`);
} finally {
  for (const child of children.reverse()) await child.stop();
  for (const database of databases) await dropDatabase(database).catch(() => undefined);
}
