import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseReservations } from '../../../src/faces/graphql/sse-reservations.js';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { startCompletion, startServerWithSimulator, streamQuery } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import type { TestServer } from '../../helpers/server.js';
import { collectFrom, collectSse, singleConnectionClient } from '../../helpers/subscriptions.js';

// graphql-sse's single-connection mode (PUT /graphql reserves a stream; one
// event stream carries every operation), beside the distinct-connections
// mode that yoga serves itself. Both meet the same rules as every transport.

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator({ KEY_CHECK_INTERVAL_MS: '200', MAX_STREAMS_PER_KEY: '3', UPSTREAM_IDLE_TIMEOUT_MS: '5000', SHUTDOWN_DEADLINE_MS: '200' }));
});
afterAll(() => server.stop());

const balanceQuery = 'subscription { balance { balance available } }';

/** The request log's lines for /graphql, as method names, from `since` on. */
function graphqlRequests(since: number): string[] {
  return server.logs
    .slice(since)
    .map((line) => JSON.parse(line) as { msg?: string; path?: string; method?: string })
    .filter((line) => line.msg === 'request' && line.path === '/graphql')
    .map((line) => line.method ?? '');
}

const reserve = (headers: Record<string, string>) => fetch(server.graphqlUrl, { method: 'PUT', headers });

describe('single-connection mode', () => {
  it('streams a completion and the balance over one reserved event stream', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['one ', 'two ', 'three'], interTokenMs: 20 });
    const { id } = await startCompletion(server, key, { maxTokens: 50 });
    const since = server.logs.length;
    const client = singleConnectionClient(server, key);
    const balance = collectFrom<{ balance: { balance: string } }>(client, balanceQuery, {}, (_data, stop) => stop());
    const events = await collectFrom<{ completionStream: { index: number; delta: string; done: boolean; completion: { status: string } | null } }>(client, streamQuery, { id });
    const pushed = await balance;
    client.dispose();
    expect(events.errors).toEqual([]);
    const stream = events.data.map((d) => d.completionStream);
    expect(stream.map((e) => e.index)).toEqual(stream.map((_, i) => i));
    expect(stream.map((e) => e.delta).join('')).toBe('one two three');
    expect(stream.at(-1)).toMatchObject({ done: true, completion: { status: 'SUCCEEDED' } });
    expect(pushed.data[0]?.balance.balance).toMatch(/^\d+\.\d+$/);
    await expect.poll(() => graphqlRequests(since).sort()).toEqual(expect.arrayContaining(['GET', 'POST', 'POST', 'PUT']));
    expect(graphqlRequests(since).filter((method) => method === 'GET' || method === 'PUT')).toEqual(['PUT', 'GET']);
  });

  it('reserves a stream only for credentials that name someone, and answers its token only with the same credentials', async () => {
    const { key } = await fundedCustomer(server);
    expect((await reserve({})).status).toBe(401);
    expect((await reserve({ authorization: 'Bearer th-not-a-real-key' })).status).toBe(401);
    const reserved = await reserve({ authorization: `Bearer ${key}` });
    expect(reserved.status).toBe(201);
    const token = await reserved.text();
    expect(token).toMatch(/^[\w-]{43}$/);
    const other = await fundedCustomer(server);
    const operation = (authorization: string | undefined) =>
      fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ query: '{ viewer { id } }', extensions: { operationId: 'one' } }),
      });
    expect((await operation(`Bearer ${other.key}`)).status).toBe(404);
    expect((await operation(undefined)).status).toBe(404);
    expect((await operation(`Bearer ${key}`)).status).toBe(202);
  });

  it('refuses a text/plain operation on a stream as cross-site request forgery', async () => {
    const { key } = await fundedCustomer(server);
    const token = await (await reserve({ authorization: `Bearer ${key}` })).text();
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${key}`, 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: '{ viewer { id } }', extensions: { operationId: 'one' } }),
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('answers refused operations on the stream as GraphQL errors with their codes: query limits, unknown completions, masked internals', async () => {
    const { key } = await fundedCustomer(server);
    const client = singleConnectionClient(server, key);
    const overDepth = `{ ${'... on Query { '.repeat(12)}models { id }${' }'.repeat(12)} }`;
    const refusedDepth = await collectFrom(client, overDepth);
    expect(refusedDepth.errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusedDepth.errors[0]?.message).toMatch(/depth limit of 12 exceeded/);
    const missing = await collectFrom(client, streamQuery, { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.errors[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(missing.errors)).not.toMatch(/"http"/);
    const syntax = await collectFrom(client, '{ viewer { ');
    expect(syntax.errors[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    client.dispose();
  });

  it('ends the subscriptions of a revoked key with UNAUTHENTICATED on the stream, and refuses its next reservation', async () => {
    const { key, keyId } = await fundedCustomer(server);
    simulator.enqueue({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), interTokenMs: 25 });
    const { id } = await startCompletion(server, key, { maxTokens: 1000 });
    // Not lazy: the client keeps its event stream open between operations.
    const client = singleConnectionClient(server, key, { lazy: false });
    let revoked: Promise<unknown> | undefined;
    const events = await collectFrom(client, streamQuery, { id }, () => {
      revoked ??= gqlOk(server, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { token: server.adminToken, variables: { id: keyId } });
    });
    await revoked;
    expect(events.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    client.dispose();
    expect((await reserve({ authorization: `Bearer ${key}` })).status).toBe(401);
  });

  it('holds a key to MAX_STREAMS_PER_KEY, its event stream counted: the next subscription on the stream is RATE_LIMITED, and open ones count in the gauge', async () => {
    const { key } = await fundedCustomer(server);
    const client = singleConnectionClient(server, key);
    const opened: (() => void)[] = [];
    const held = Array.from({ length: 2 }, () =>
      new Promise<void>((resolve) => {
        const stop = client.subscribe({ query: balanceQuery }, { next: () => resolve(), error: () => resolve(), complete: () => resolve() });
        opened.push(stop);
      }),
    );
    await Promise.all(held);
    const gauge = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/^tokenhub_active_subscriptions (\d+)/m.exec(gauge)?.[1])).toBeGreaterThanOrEqual(2);
    const refused = await collectFrom(client, balanceQuery);
    expect(refused.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    for (const stop of opened) stop();
    client.dispose();
  });

  it('counts reservations among the key\'s streams: past MAX_STREAMS_PER_KEY a PUT is 429 RATE_LIMITED', async () => {
    const { key } = await fundedCustomer(server);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await reserve({ authorization: `Bearer ${key}` }));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 429]);
    expect((await answers[3]!.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('cuts the event stream of a key when it is revoked, and refuses a token it reserved before', async () => {
    const { key, keyId } = await fundedCustomer(server);
    const authorization = `Bearer ${key}`;
    const [connecting, unused] = await Promise.all([reserve({ authorization }), reserve({ authorization })]);
    const [token, unusedToken] = await Promise.all([connecting.text(), unused.text()]);
    const open = (streamToken: string) =>
      fetch(server.graphqlUrl, { headers: { authorization, accept: 'text/event-stream', 'x-graphql-event-stream-token': streamToken } });
    const stream = await open(token);
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await gqlOk(server, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { token: server.adminToken, variables: { id: keyId } });
    // Read to its end: an event stream that is not cut never ends, and the test times out.
    for (let read = await reader.read().catch(() => ({ done: true }) as const); !read.done; read = await reader.read().catch(() => ({ done: true }) as const));
    expect((await open(unusedToken)).status).toBe(404);
  });

  it('leaves distinct-connections mode as it was: one event stream per operation, no reservation', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['a ', 'b'], interTokenMs: 10 });
    const { id } = await startCompletion(server, key, { maxTokens: 50 });
    const since = server.logs.length;
    const events = await collectSse<{ completionStream: { delta: string; done: boolean } }>(server, key, streamQuery, { id });
    expect(events.errors).toEqual([]);
    expect(events.data.map((d) => d.completionStream.delta).join('')).toBe('a b');
    expect(graphqlRequests(since)).not.toContain('PUT');
  });
});

describe('a reservation', () => {
  it('that never connects its event stream is dropped after the timeout, and the stream released with it', async () => {
    const expired: string[] = [];
    const reservations = new SseReservations(50, (token) => expired.push(token));
    const given: string[] = [];
    const kept = reservations.reserve('Bearer a', { release: () => given.push('a') });
    const dropped = reservations.reserve('Bearer b', { release: () => given.push('b') });
    reservations.connected(kept);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(expired).toEqual([dropped]);
    expect(given).toEqual(['b']);
    expect(reservations.heldBy(kept, 'Bearer a')).toBe(true);
    expect(reservations.heldBy(dropped, 'Bearer b')).toBe(false);
    expect(reservations.heldBy(kept, 'Bearer b')).toBe(false);
    reservations.released(kept);
    expect(reservations.heldBy(kept, 'Bearer a')).toBe(false);
    expect(given).toEqual(['b', 'a']);
  });
});
