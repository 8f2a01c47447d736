import { request as httpRequest } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CSRF_HEADERS } from '../../../src/faces/graphql/plugins/csrf-prevention.js';
import { streamQuery } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { codeOf, gql, gqlOk, type GraphQLResponse } from '../../helpers/graphql.js';
import { snapshotCounts } from '../../helpers/invariants.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { collectSse } from '../../helpers/subscriptions.js';
import { wsClient, wsRequest } from '../../helpers/ws.js';

let server: TestServer;
let locked: TestServer;
beforeAll(async () => {
  [server, locked] = await Promise.all([startServer(), startServer({ INTROSPECTION: 'false', GRAPHIQL: 'false' })]);
});
afterAll(() => Promise.all([server?.stop(), locked?.stop()]));

/** The same document over HTTP and over graphql-ws: both answers. */
async function overBoth(target: TestServer, query: string, token?: string) {
  const client = wsClient(target, token);
  try {
    return { http: await gql(target, query, { token }), ws: await wsRequest(client, query) };
  } finally {
    await client.dispose();
  }
}

function expectRefused(response: Pick<GraphQLResponse, 'errors' | 'data'>, code: string, message: RegExp) {
  expect(response.data ?? undefined).toBeUndefined();
  expect(response.errors?.map((e) => e.extensions?.code)).toContain(code);
  expect(response.errors?.map((e) => e.message).join('\n')).toMatch(message);
}

// Inline fragments count as levels, so a valid document can be as deep as one likes.
function nestedQuery(levels: number): string {
  return `{ ${'... on Query { '.repeat(levels)}models { id }${' }'.repeat(levels)} }`;
}

describe('query limits', () => {
  it('refuse a document nested deeper than 12 levels, over HTTP and WebSocket', async () => {
    await gqlOk(server, nestedQuery(10)); // depth 12: allowed
    const { http, ws } = await overBoth(server, nestedQuery(12));
    expect(http.status).toBe(400);
    for (const response of [http, ws]) expectRefused(response, 'GRAPHQL_VALIDATION_FAILED', /depth limit of 12 exceeded, found 14/);
  });

  it('refuse an alias bomb of more than 15 aliases, over HTTP and WebSocket', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `m${i}: models { id }`).join(' ')} }`;
    await gqlOk(server, aliases(15));
    const { http, ws } = await overBoth(server, aliases(100));
    for (const response of [http, ws]) expectRefused(response, 'GRAPHQL_VALIDATION_FAILED', /Aliases limit of 15 exceeded, found 100/);
  });

  it('refuse a document of more than 2000 tokens while parsing it, over HTTP and WebSocket', async () => {
    const { http, ws } = await overBoth(server, `{ models { ${'id '.repeat(3000)} } }`);
    expect(http.status).toBe(400);
    for (const response of [http, ws]) expectRefused(response, 'GRAPHQL_PARSE_FAILED', /Token limit of 2000 exceeded/);
  });

  it('refuse a document whose estimated cost is over 5000, over HTTP and WebSocket', async () => {
    const query = '{ accounts(first: 100) { edges { node { ledger(first: 100) { edges { node { id amount } } } } } } }';
    const { http, ws } = await overBoth(server, query, server.adminToken);
    for (const response of [http, ws]) expectRefused(response, 'GRAPHQL_VALIDATION_FAILED', /Cost limit of 5000 exceeded/);
  });

  it('refuse more than 10 directives in one document', async () => {
    const response = await gql(server, `{ models { ${'id @include(if: true) '.repeat(11)} } }`);
    expectRefused(response, 'GRAPHQL_VALIDATION_FAILED', /Directives limit of 10 exceeded/);
  });

  it('apply to subscriptions over SSE', async () => {
    const { key } = await fundedCustomer(server);
    const deep = `subscription { completionStream(id: "00000000-0000-4000-8000-000000000000") { ${'a: completionId '.repeat(16)} } }`;
    const { data, errors } = await collectSse(server, key, deep, {});
    expect(data).toEqual([]);
    expect(errors.map((e) => e.extensions?.code)).toContain('GRAPHQL_VALIDATION_FAILED');
  });

  it("let GraphiQL's introspection query and the test clients' subscription through", async () => {
    const options = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true };
    const data = await gqlOk(server, getIntrospectionQuery(options));
    expect(data.__schema.types.length).toBeGreaterThan(10);
    const { key } = await fundedCustomer(server);
    const response = await gql(server, streamQuery, { token: key, variables: { id: '00000000-0000-4000-8000-000000000000' } });
    expect(codeOf(response)).toBe('NOT_FOUND');
  });
});

describe('with INTROSPECTION=false and GRAPHIQL=false', () => {
  it('refuses __schema and __type over HTTP and WebSocket, and still answers __typename', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Query") { name } }']) {
      const { http, ws } = await overBoth(locked, query);
      for (const response of [http, ws]) expectRefused(response, 'GRAPHQL_VALIDATION_FAILED', /introspection has been disabled/);
    }
    expect(await gqlOk(locked, '{ __typename models { __typename id } }')).toMatchObject({ __typename: 'Query' });
  });

  it('hides field suggestions, which would reveal the schema', async () => {
    const open = await gql(server, '{ modelz { id } }');
    expect(open.errors?.[0]?.message).toMatch(/Did you mean/);
    const closed = await gql(locked, '{ modelz { id } }');
    expect(closed.errors?.[0]?.message).toMatch(/Cannot query field "modelz"/);
    expect(closed.errors?.[0]?.message).not.toMatch(/Did you mean|models/);
  });

  it('serves no GraphiQL page', async () => {
    const page = await fetch(locked.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    expect(page.status).toBeGreaterThanOrEqual(400);
  });
});

describe('cross-site request forgery', () => {
  const mutation = 'mutation { createAccount(input: { name: "forged" }) { id } }';

  async function post(body: BodyInit, headers: Record<string, string>) {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, ...headers },
      body,
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse };
  }

  it('refuses a form post, a text/plain post and a multipart post of a mutation, and changes nothing', async () => {
    const before = await snapshotCounts(server);
    const multipart = new FormData();
    multipart.set('operations', JSON.stringify({ query: mutation }));
    multipart.set('map', '{}');
    const attempts = [
      await post(new URLSearchParams({ query: mutation }), { 'content-type': 'application/x-www-form-urlencoded' }),
      await post(JSON.stringify({ query: mutation }), { 'content-type': 'text/plain' }),
      await post(multipart, {}),
    ];
    for (const { status, body } of attempts) {
      expect(status).toBe(403);
      expect(codeOf({ ...body, status })).toBe('FORBIDDEN');
      expect(body.errors?.[0]?.message).toMatch(/application\/json/);
    }
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('accepts a form post that carries the CSRF header, which no cross-site form can set', async () => {
    const { status, body } = await post(new URLSearchParams({ query: '{ models { id } }' }), {
      'content-type': 'application/x-www-form-urlencoded',
      [CSRF_HEADERS[0]!]: '1',
    });
    expect(status).toBe(200);
    expect(body.data?.models.length).toBeGreaterThan(0);
  });

  it('refuses a mutation sent with GET', async () => {
    const before = await snapshotCounts(server);
    const response = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent(mutation)}`, {
      headers: { authorization: `Bearer ${server.adminToken}`, accept: 'application/json' },
    });
    expect(response.status).toBe(405);
    expect(await snapshotCounts(server)).toEqual(before);
  });
});

describe('input that would fail deep inside', () => {
  it('answers a NUL character, which Postgres cannot store, with BAD_USER_INPUT over HTTP and WebSocket', async () => {
    const { http, ws } = await overBoth(server, '{ model(id: "claude\\u0000haiku") { id } }');
    expect(http.status).toBe(400);
    for (const response of [http, ws]) expectRefused(response, 'BAD_USER_INPUT', /NUL character/);
    const viaVariables = await gql(server, 'query($id: String!) { model(id: $id) { id } }', { variables: { id: 'a\u0000b' } });
    expectRefused(viaVariables, 'BAD_USER_INPUT', /NUL character/);
  });

  it('answers GET variables that are not JSON with 400 BAD_REQUEST', async () => {
    const query = encodeURIComponent('query($id: String!) { model(id: $id) { id } }');
    const response = await fetch(`${server.graphqlUrl}?query=${query}&variables=notjson`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(400);
    expect(codeOf({ ...((await response.json()) as GraphQLResponse), status: 400 })).toBe('BAD_REQUEST');
  });
});

describe('request size', () => {
  const twoMiB = JSON.stringify({ query: '{ models { id } }', variables: { padding: 'x'.repeat(2 * 1024 * 1024) } });

  it('answers 413 to a 2 MiB body', async () => {
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: twoMiB });
    expect(response.status).toBe(413);
    expect(codeOf({ ...((await response.json()) as GraphQLResponse), status: 413 })).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it('answers 413 to a 2 MiB body sent in chunks without a Content-Length', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < twoMiB.length; i += 64 * 1024) req.write(twoMiB.slice(i, i + 64 * 1024));
      req.end();
    });
    expect(status).toBe(413);
    expect(await gqlOk(server, '{ models { id } }')).toBeTruthy();
  });

  it('closes a WebSocket that sends a message over the limit', async () => {
    const socket = new WebSocket(server.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(await closed).toBe(1009);
    const client = wsClient(server);
    expect((await wsRequest(client, '{ models { id } }')).data?.models.length).toBeGreaterThan(0);
    await client.dispose();
  });
});
