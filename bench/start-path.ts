import { parseArgs } from 'node:util';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startSimulator } from '../src/simulator/simulator.js';
import { fundedCustomer } from '../test/helpers/fixtures.js';
import { createDatabase, databaseUrl, dropDatabase } from '../test/helpers/postgres.js';
import { percentile } from './stats.js';

// `npm run bench:start-path [-- --completions N]`: where a streamed REST
// completion's time to first token goes, one completion at a time, read
// from the gateway's own spans (the same ones an OTLP collector receives):
// the request before the completion exists (HTTP, credentials, validation,
// the key's rate window), the reservation statement, the upstream call up
// to its first token, and from there to the client. The gateway, the
// simulator (no delays) and the client share this process, so each share
// of the event loop is in the figures; the split is what to read, not the
// absolute times. Also counts the Postgres statements of each completion.

const { values: options } = parseArgs({ options: { completions: { type: 'string', default: '300' } } });
const count = Number(options.completions);

const exporter = new InMemorySpanExporter();
const simulator = await startSimulator();
simulator.setTiming({ ttftMs: 0, interTokenMs: 0 });
const database = await createDatabase();
const config = loadConfig({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  DATABASE_URL: databaseUrl(database),
  ADMIN_TOKEN: 'start-path-admin-token-0123',
  LOG_LEVEL: 'warn',
  UPSTREAM_BASE_URL: simulator.baseUrl,
  UPSTREAM_API_KEY: 'th-start-path-upstream',
});
const statements: string[] = [];
const app = await buildApp(config, { logger: createLogger(config), onQuery: (sql) => statements.push(sql), spanProcessor: new SimpleSpanProcessor({ exporter }) });

const msOf = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;
const now = () => performance.timeOrigin + performance.now();
const firstText = /"content":"[^"]/;

/** One streamed completion: when it was sent and when its first text reached this client. */
async function oneCompletion(url: string, key: string): Promise<{ sent: number; firstText: number | undefined }> {
  const sent = now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-haiku-4-5', stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] }),
  });
  const decoder = new TextDecoder();
  let first: number | undefined;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    if (first === undefined && firstText.test(decoder.decode(read.value, { stream: true }))) first = now();
  }
  return { sent, firstText: first };
}

/** The phases of one completion from its spans; undefined when one is missing. */
function phasesOf(spans: ReadableSpan[], sent: number, firstText: number): Record<string, number> | undefined {
  const named = (name: string) => spans.find((s) => s.name === name);
  const [completion, reservation, call] = [named('completion'), named('reservation'), named('upstream.call')];
  const firstToken = completion?.events.find((e) => e.name === 'first token');
  if (!completion || !reservation || !call || !firstToken) return undefined;
  return {
    'request, until the completion exists': msOf(completion.startTime) - sent,
    'reservation statement': msOf(reservation.endTime) - msOf(reservation.startTime),
    'reservation to upstream call': msOf(call.startTime) - msOf(reservation.endTime),
    'upstream call to its first token': msOf(firstToken.time) - msOf(call.startTime),
    'first token to the client': firstText - msOf(firstToken.time),
    'time to first token at the client': firstText - sent,
  };
}

try {
  const url = await app.start();
  const { key } = await fundedCustomer({ graphqlUrl: `${url}/graphql`, adminToken: app.adminToken }, '100');
  const rows: Record<string, number>[] = [];
  const statementCounts: number[] = [];
  for (let i = 0; i < count; i++) {
    exporter.reset();
    statements.length = 0;
    simulator.enqueue({ words: 5 });
    const { sent, firstText: first } = await oneCompletion(url, key);
    // The settlement's span ends just after the last event is written.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const phases = first === undefined ? undefined : phasesOf(exporter.getFinishedSpans(), sent, first);
    if (phases) rows.push(phases);
    statementCounts.push(statements.length);
  }
  process.stdout.write(`${rows.length} of ${count} streamed REST completions, one at a time, upstream without delays:\n\n| phase | p50 ms | p90 ms |\n| --- | --- | --- |\n`);
  for (const phase of Object.keys(rows[0] ?? {})) {
    const values = rows.map((row) => row[phase] as number);
    process.stdout.write(`| ${phase} | ${percentile(values, 50).toFixed(2)} | ${percentile(values, 90).toFixed(2)} |\n`);
  }
  process.stdout.write(`\nPostgres statements per completion: p50 ${percentile(statementCounts, 50)}, max ${Math.max(...statementCounts)}\n`);
} finally {
  await app.stop();
  await simulator.close();
  await dropDatabase(database);
}
