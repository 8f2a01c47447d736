import { request as httpRequest } from 'node:http';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { hostileHttpRequests, hostileOperations, type HostileOperation } from '../../helpers/hostile-cases.js';
import { expectLedgerInvariant, snapshotCounts } from '../../helpers/invariants.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { wsClient, wsRequest } from '../../helpers/ws.js';

// A few hundred malformed or abusive requests over HTTP and WebSocket. What
// must hold for every one: no 5xx, every error has a code and is not an
// unexpected (masked) failure, no stack trace or SQL reaches the client; and
// after all of them nothing changed and the server still serves.

let server: TestServer;
let before: Record<string, unknown>;
let identities: (string | null)[];
beforeAll(async () => {
  server = await startServer();
  // A key of an account without credits: mutations get as far as the money
  // and stop there, so nothing may change whatever the input.
  const { key } = await fundedCustomer(server, '0');
  identities = [null, key, 'th-bogus0000000000000000000000000000000000', server.adminToken];
  before = await snapshotCounts(server);
});
afterAll(() => server?.stop());

const operations = hostileOperations();
// The graphql-ws client refuses to send a subscribe message whose fields
// have the wrong types; those go over a raw socket below instead.
const sendableOverWs = operations.filter(
  (o) =>
    typeof o.query === 'string' &&
    (o.variables === undefined || (typeof o.variables === 'object' && !Array.isArray(o.variables))) &&
    (o.operationName === undefined || typeof o.operationName === 'string'),
);

// Errors that may reach a client carry one of these codes; anything else
// (INTERNAL_SERVER_ERROR above all) means an unexpected failure.
const expectedCodes = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'INSUFFICIENT_CREDITS',
  'REQUEST_ENTITY_TOO_LARGE',
  'OPERATION_RESOLUTION_FAILURE',
]);
const leak = /\bselect\b[\s\S]*\bfrom\b|\binsert into\b|\bupdate\b[\s\S]*\bset\b|relation "|SQLSTATE|violates|duplicate key|node_modules|\bat .*:\d+:\d+|\.ts:\d+/i;

type Problems = string[];

function checkErrors(name: string, errors: unknown, problems: Problems): void {
  if (errors === undefined) return;
  if (!Array.isArray(errors) || errors.length === 0) return void problems.push(`${name}: errors is not a non-empty list`);
  for (const error of errors as { message?: unknown; extensions?: { code?: unknown } }[]) {
    const code = error.extensions?.code;
    if (typeof code !== 'string' || !expectedCodes.has(code)) problems.push(`${name}: error code ${String(code)} (${String(error.message).slice(0, 120)})`);
    if (typeof error.message !== 'string' || leak.test(error.message)) problems.push(`${name}: leaky message ${String(error.message).slice(0, 200)}`);
    if (JSON.stringify(error).includes('stack')) problems.push(`${name}: a stack in ${JSON.stringify(error).slice(0, 200)}`);
  }
}

function checkHttpAnswer(name: string, status: number, contentType: string, body: string, problems: Problems): void {
  if (status >= 500) problems.push(`${name}: HTTP ${status} ${body.slice(0, 200)}`);
  const results: unknown[] = [];
  try {
    if (contentType.includes('text/event-stream')) {
      for (const line of body.split('\n')) if (line.startsWith('data:') && line.slice(5).trim()) results.push(JSON.parse(line.slice(5)));
    } else if (contentType.includes('json')) {
      results.push(JSON.parse(body));
    } else if (status < 400 && status !== 204) {
      problems.push(`${name}: HTTP ${status} with ${contentType || 'no content type'}`);
    }
  } catch {
    problems.push(`${name}: unparseable ${contentType} body ${body.slice(0, 120)}`);
  }
  for (const result of results) checkErrors(name, (result as { errors?: unknown }).errors, problems);
  if (leak.test(body)) problems.push(`${name}: leaky body ${body.slice(0, 200)}`);
}

function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer) {
  return new Promise<{ status: number; contentType: string; body: string }>((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end(body);
  });
}

/** Runs `work` over every item, a few at a time. */
async function inPool<T>(items: readonly T[], work: (item: T, index: number) => Promise<void>, size = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/** Mutations never run as the admin, who could change things; read-only documents may. */
function tokenFor(operation: HostileOperation, index: number): string | null {
  const token = identities[index % identities.length]!;
  return token === server.adminToken && JSON.stringify(operation).includes('mutation') ? identities[1]! : token;
}

/** One operation over a fresh graphql-ws connection: its results, or how the socket closed. */
function overWebSocket(client: Client, operation: HostileOperation) {
  return new Promise<{ results: { errors?: unknown }[]; closeCode?: number }>((resolve) => {
    const results: { errors?: unknown }[] = [];
    const timer = setTimeout(() => resolve({ results, closeCode: -1 }), 10_000);
    const done = (outcome: { results: { errors?: unknown }[]; closeCode?: number }) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    client.subscribe(
      { query: operation.query as string, variables: operation.variables as Record<string, unknown>, operationName: operation.operationName as string },
      {
        next: (value) => results.push(value),
        error: (error) => {
          if (Array.isArray(error)) done({ results: [...results, { errors: error }] });
          else done({ results, closeCode: (error as { code?: number }).code ?? -2 });
        },
        complete: () => done({ results }),
      },
    );
  });
}

// Close codes that refuse a bad client; 1011 and 4500 would be the server failing.
const refusingCloseCodes = new Set([1009, 4400, 4401, 4403, 4409, 4429]);

describe('hostile input', () => {
  it(`over HTTP: ${operations.length} documents and variable payloads get 4xx or coded errors, never a 5xx or an unmasked error`, { timeout: 120_000 }, async () => {
    const problems: Problems = [];
    await inPool(operations, async (operation, i) => {
      const token = tokenFor(operation, i);
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const body = JSON.stringify({ query: operation.query, variables: operation.variables, operationName: operation.operationName });
      const answer = await send('POST', '/graphql', headers, body);
      checkHttpAnswer(`HTTP ${operation.name}`, answer.status, answer.contentType, answer.body, problems);
    });
    expect(problems).toEqual([]);
  });

  it('over HTTP: broken bodies, methods, content types and query strings get 4xx, never a 5xx', { timeout: 60_000 }, async () => {
    const problems: Problems = [];
    await inPool(hostileHttpRequests(), async (request) => {
      const answer = await send(request.method, `/graphql${request.search ?? ''}`, request.headers, request.body);
      checkHttpAnswer(`HTTP ${request.name}`, answer.status, answer.contentType, answer.body, problems);
    });
    expect(problems).toEqual([]);
  });

  it(`over WebSocket: the same ${sendableOverWs.length} operations get coded errors or a refusing close, never an internal error`, { timeout: 120_000 }, async () => {
    const problems: Problems = [];
    const oddParams = [{ authorization: 42 }, { authorization: '' }, { authorization: 'Bearer' }, { authorization: ['Bearer x'] }];
    await inPool(sendableOverWs, async (operation, i) => {
      const token = tokenFor(operation, i);
      const client = i % 9 === 8 ? wsClient(server, null, oddParams[i % oddParams.length]) : wsClient(server, token);
      try {
        const { results, closeCode } = await overWebSocket(client, operation);
        const name = `WS ${operation.name}`;
        if (closeCode !== undefined && !refusingCloseCodes.has(closeCode)) problems.push(`${name}: socket closed with ${closeCode}`);
        for (const result of results) checkErrors(name, result.errors, problems);
        if (leak.test(JSON.stringify(results))) problems.push(`${name}: leaky result ${JSON.stringify(results).slice(0, 200)}`);
      } finally {
        await client.dispose();
      }
    });
    expect(problems).toEqual([]);
  });

  it('over WebSocket: broken protocol messages close the socket with a refusing code, or are ignored', { timeout: 60_000 }, async () => {
    const subscribe = (id: string, payload: unknown) => JSON.stringify({ type: 'subscribe', id, payload });
    const init = JSON.stringify({ type: 'connection_init' });
    const scripts: (string | Buffer)[][] = [
      [init, subscribe('1', { query: 1 })],
      [init, subscribe('1', { query: { kind: 'Document' } })],
      [init, subscribe('1', { query: null })],
      [init, subscribe('1', { query: '{ models { id } }', variables: [1, 2] })],
      [init, subscribe('1', { query: '{ models { id } }', variables: 7 })],
      [init, subscribe('1', { query: '{ models { id } }', operationName: {} })],
      [JSON.stringify({ type: 'connection_init', payload: { authorization: { toString: 'x' } } }), subscribe('1', { query: '{ viewer { id } }' })],
      ['not json'],
      ['{}'],
      ['[]'],
      ['null'],
      [subscribe('1', { query: '{ models { id } }' })],
      [JSON.stringify({ type: 'connection_init', payload: 'a string' })],
      [init, init],
      [init, subscribe('1', { query: 'subscription { completionStream(id: "x") { index } }' }), subscribe('1', { query: '{ models { id } }' })],
      [init, subscribe('', { query: '{ models { id } }' })],
      [init, subscribe('x'.repeat(100_000), { query: '{ models { id } }' })],
      [init, subscribe('1', 'not an object')],
      [init, subscribe('1', { query: '{ models { id } }', variables: 'x' })],
      [init, JSON.stringify({ type: 'complete', id: 'never-started' })],
      [init, JSON.stringify({ type: 'ping', payload: [1] })],
      [init, JSON.stringify({ type: 'unknown' })],
      [init, Buffer.from([0xff, 0x00, 0xfe])],
    ];
    const problems: Problems = [];
    await inPool(scripts, async (script, i) => {
      const socket = new WebSocket(server.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.on('error', () => undefined);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      for (const message of script) socket.send(message);
      const timer = setTimeout(() => socket.close(1000), 1000);
      const code = await closed;
      clearTimeout(timer);
      if (code !== 1000 && code !== 1005 && !refusingCloseCodes.has(code)) problems.push(`WS script #${i}: closed with ${code}`);
    });
    expect(problems).toEqual([]);
  });

  // graphql-ws 6 throws on a message type only servers send, and its ws
  // adapter answers that with 4500 rather than 4400. A known limit of the
  // library: the socket is closed and the server goes on serving.
  it('over WebSocket: a client that sends a server message (next) is disconnected, and the server goes on', async () => {
    const socket = new WebSocket(server.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    socket.send(JSON.stringify({ type: 'next', id: '1', payload: {} }));
    expect(await closed).toBe(4500);
    const client = wsClient(server);
    expect((await wsRequest(client, '{ models { id } }')).data?.models.length).toBeGreaterThan(0);
    await client.dispose();
  });

  it('changed nothing, logged no unexpected error, and left the server serving', async () => {
    expect(await snapshotCounts(server)).toEqual(before);
    await expectLedgerInvariant(server);
    const errorLines = server.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errorLines.map((line) => line.slice(0, 300))).toEqual([]);
    expect((await gqlOk(server, '{ models { id } }')).models.length).toBeGreaterThan(0);
    const client = wsClient(server);
    expect((await wsRequest(client, '{ models { id } }')).data?.models.length).toBeGreaterThan(0);
    await client.dispose();
  });
});
