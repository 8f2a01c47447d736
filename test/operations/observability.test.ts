import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { startCompletion, startMutation, startServerWithSimulator, streamQuery } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { postgresUrl } from '../helpers/postgres.js';
import type { TestServer } from '../helpers/server.js';
import { collectSse, collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
  simulator.setTiming({ ttftMs: 0, interTokenMs: 0 });
});
afterAll(() => server?.stop());

const model = 'anthropic/claude-haiku-4-5';

async function scrape(): Promise<string> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

/** The value of one sample, e.g. metric('tokenhub_tokens_total', { kind: 'prompt', model }). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of (await scrape()).split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ? match[2].split(',') : [];
    if (wanted.length === present.length && wanted.every((w) => present.includes(w))) return Number(match[3]);
  }
  return 0;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function runToTheEnd(key: string, id: string) {
  const client = wsClient(server, key);
  const { data } = await collectFrom<{ completionStream: any }>(client, streamQuery, { id });
  await client.dispose();
  return data.at(-1)!.completionStream.completion;
}

describe('/metrics', () => {
  it('counts a settled completion by status and model, with its tokens, credits, time to first token and duration', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['One', ' two', ' three'] });
    const final = await runToTheEnd(key, (await startCompletion(server, key, {})).id);
    expect(final.status).toBe('SUCCEEDED');
    await eventually(async () => (await metric('tokenhub_completions_total', { status: 'SUCCEEDED', model })) === 1, 'the completion counter');
    expect(await metric('tokenhub_tokens_total', { kind: 'prompt', model })).toBe(final.usage.promptTokens);
    expect(await metric('tokenhub_tokens_total', { kind: 'completion', model })).toBe(3);
    expect(await metric('tokenhub_credits_charged_total', { model })).toBeCloseTo(Number(final.cost), 9);
    expect(await metric('tokenhub_completion_ttft_seconds_count', { model })).toBe(1);
    expect(await metric('tokenhub_completion_duration_seconds_count', { status: 'SUCCEEDED', model })).toBe(1);
    expect(await scrape()).toMatch(/^process_cpu_seconds_total /m);
  });

  it('counts upstream failures by kind', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['a', 'b'], fault: 'malformed', afterTokens: 1 });
    const final = await runToTheEnd(key, (await startCompletion(server, key, {})).id);
    expect(final.status).toBe('FAILED');
    await eventually(async () => (await metric('tokenhub_upstream_errors_total', { kind: 'malformed' })) === 1, 'the upstream error counter');
    expect(await metric('tokenhub_completions_total', { status: 'FAILED', model })).toBe(1);
  });

  it('counts upstream calls made again after a failure before any output, by model, kind and where the next went', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ fault: 'http500' });
    simulator.enqueue({ words: 2 });
    const final = await runToTheEnd(key, (await startCompletion(server, key, {})).id);
    expect(final.status).toBe('SUCCEEDED');
    expect(await metric('tokenhub_upstream_retries_total', { model, kind: 'http', next: 'retry' })).toBe(1);
  });

  it('times each GraphQL operation by its name, type and outcome, an anonymous one as anonymous', async () => {
    const { key } = await fundedCustomer(server);
    await gqlOk(server, 'query CatalogueForMetrics { models { id } }', { token: key });
    await gqlOk(server, '{ models { id } }', { token: key });
    const refused = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'mutation CancelForMetrics { cancelCompletion(id: "00000000-0000-0000-0000-000000000000") { id } }' }),
    });
    await refused.text();
    await eventually(async () => (await metric('tokenhub_graphql_operation_duration_seconds_count', { operation: 'CatalogueForMetrics', type: 'query', outcome: 'ok' })) === 1, 'the named operation');
    expect(await metric('tokenhub_graphql_operation_duration_seconds_count', { operation: 'anonymous', type: 'query', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(await metric('tokenhub_graphql_operation_duration_seconds_count', { operation: 'CancelForMetrics', type: 'mutation', outcome: 'error' })).toBe(1);
  });

  it('times each HTTP request by route template, method and status, never by its raw path', async () => {
    const { key } = await fundedCustomer(server);
    const response = await fetch(`${server.url}/v1/models/anthropic%2Fclaude-haiku-4-5`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    await response.text();
    await (await fetch(`${server.url}/no/such/path-4711`)).text();
    await eventually(async () => (await metric('tokenhub_http_request_duration_seconds_count', { route: '/v1/models/{model}', method: 'GET', status: '200' })) === 1, 'the REST route');
    const scraped = await scrape();
    expect(scraped).toMatch(/^tokenhub_http_request_duration_seconds_count\{[^}]*route="unmatched"/m);
    expect(scraped).not.toMatch(/route="[^"]*claude/);
    expect(scraped).not.toContain('path-4711');
  });

  it('counts open subscriptions over SSE and WebSocket, and forgets each one when it ends or its client leaves', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 40, ttftMs: 50, interTokenMs: 25 });
    const { id } = await startCompletion(server, key, {});
    const leaving = wsClient(server, key);
    const staying = wsClient(server, key);
    void collectFrom(leaving, streamQuery, { id }).catch(() => undefined);
    const overWs = collectFrom(staying, streamQuery, { id });
    const overSse = collectSse(server, key, streamQuery, { id });
    await eventually(async () => (await metric('tokenhub_active_subscriptions')) === 3, 'three open subscriptions');
    await leaving.dispose();
    await eventually(async () => (await metric('tokenhub_active_subscriptions')) === 2, 'the departed client to be forgotten');
    await Promise.all([overWs, overSse]);
    await staying.dispose();
    await eventually(async () => (await metric('tokenhub_active_subscriptions')) === 0, 'no open subscription');
  });
});

describe('/health and /ready', () => {
  it('/health answers 200 while the process serves', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/ready answers 200 while the database answers, and 503 naming it when it does not', async () => {
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });

    // Take this file's database away from the server: refuse new connections
    // and end the open ones (the test's own pool loses its connections too).
    server.pg.on('error', () => undefined);
    const database = new URL((server.pg as unknown as { options: { connectionString: string } }).options.connectionString).pathname.slice(1);
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      await admin.query(`alter database "${database}" allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
      const unready = await fetch(`${server.url}/ready`);
      expect(unready.status).toBe(503);
      expect(await unready.json()).toEqual({ status: 'unavailable', checks: { database: 'failed' } });
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await admin.query(`alter database "${database}" allow_connections true`);
      await admin.end();
    }
    await eventually(async () => (await fetch(`${server.url}/ready`)).status === 200, 'the database to be back');
  });
});

describe('logs', () => {
  function logLines() {
    return server.logs.map((line) => JSON.parse(line) as Record<string, any>);
  }

  it('echo the caller\'s x-request-id, or a new one, and log each request with it and its operation', async () => {
    const given = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-4711' },
      body: JSON.stringify({ query: 'query CatalogueForLogs { models { id } }' }),
    });
    expect(given.headers.get('x-request-id')).toBe('trace-4711');
    await given.text();
    const forged = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `${'x'.repeat(200)}` },
      body: JSON.stringify({ query: '{ models { id } }' }),
    });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await forged.text();
    await eventually(async () => logLines().some((l) => l.requestId === 'trace-4711' && l.msg === 'request'), 'the request line');
    expect(logLines().find((l) => l.requestId === 'trace-4711')).toMatchObject({
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'CatalogueForLogs',
      durationMs: expect.any(Number),
    });
  });

  it('censor secrets that a log call is handed by mistake', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString()), done()) });
    const logger = createLogger({ logLevel: 'info' }, sink);
    logger.info({ authorization: 'Bearer th-one', headers: { authorization: 'Bearer th-two', cookie: 'c=th-three' }, key: { secret: 'th-four' }, config: { adminToken: 'admin-five', apiKeyPepper: 'pepper-six' } }, 'careless');
    expect(lines.join('')).not.toMatch(/th-one|th-two|th-three|th-four|admin-five|pepper-six/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ authorization: '[redacted]', key: { secret: '[redacted]' }, config: { adminToken: '[redacted]' } });
  });

  it('never hold the text of a request that failed with an error for its client', async () => {
    const { key } = await fundedCustomer(server);
    const prompt = 'a prompt that belongs to no log 7f3a';
    // A prompt where a number belongs: the validation error quotes the value.
    const response = await gql(server, startMutation, {
      token: key,
      variables: { input: { model: 'claude-haiku-4-5', messages: [{ role: 'USER', content: 'hi' }], maxTokens: prompt } },
    });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(response)).toContain(prompt);
    await eventually(async () => server.logs.some((l) => l.includes('a request failed with an error for its client')), 'the error line');
    expect(server.logs.join('')).not.toContain(prompt);
  });

  it('are JSON lines that carry request and completion ids and never a key, the admin token or the upstream key', async () => {
    const { key } = await fundedCustomer(server);
    const created = await gqlOk(server, 'mutation { createApiKey(input: { name: "second" }) { secret } }', { token: key });
    simulator.enqueue({ text: 'Logged but not leaked.' });
    const { id } = await startCompletion(server, key, { messages: [{ role: 'user', content: `my key is ${key}` }] });
    await runToTheEnd(key, id);
    await eventually(async () => server.logs.some((l) => l.includes('completion settled') && l.includes(id)), 'the settlement line');

    const lines = logLines();
    expect(lines.filter((l) => l.msg === 'request' && l.path === '/graphql').every((l) => typeof l.requestId === 'string')).toBe(true);
    expect(lines.filter((l) => l.completionId === id).map((l) => l.msg)).toEqual(expect.arrayContaining(['completion started', 'completion settled']));
    const text = server.logs.join('');
    for (const secret of [key, created.createApiKey.secret, server.adminToken, 'th-upstream-test-key']) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/th-[A-Za-z0-9]{20,}/);
  });
});
