import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../../src/faces/graphql/schema.js';
import { playgroundOperations, type PlaygroundOperation } from '../../../src/http/playground-operations.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gql } from '../../helpers/graphql.js';
import type { TestServer } from '../../helpers/server.js';
import { startServer } from '../../helpers/server.js';
import { collectFrom, singleConnectionClient } from '../../helpers/subscriptions.js';
import { wsClient, wsRequest } from '../../helpers/ws.js';

// TRUSTED_DOCUMENTS=playground: the playground's own operations (the files
// in playground/operations/, hashed at start) run by their SHA-256, on every
// GraphQL transport; documents sent as text keep working for everyone else.

let trusted: TestServer;
let plain: TestServer;
let operations: Map<string, PlaygroundOperation>;
beforeAll(async () => {
  [trusted, plain] = await Promise.all([startServer({ TRUSTED_DOCUMENTS: 'playground' }), startServer()]);
  operations = new Map((await playgroundOperations()).map((operation) => [operation.name, operation]));
});
afterAll(() => Promise.all([trusted?.stop(), plain?.stop()]));

const byHash = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

function postByHash(server: TestServer, hash: string, token?: string) {
  return fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ extensions: byHash(hash) }),
  }).then(async (response) => ({ status: response.status, ...((await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] }) }));
}

describe('the playground operations', () => {
  it('are valid documents of the schema, each a named operation', () => {
    const schema = buildSchema();
    expect([...operations.keys()].sort()).toEqual(['Cancel', 'Models', 'Start', 'Stream', 'Viewer']);
    for (const { name, document } of operations.values()) {
      expect(validate(schema, parse(document)), name).toEqual([]);
      expect(document, name).toMatch(new RegExp(`^(query|mutation|subscription) ${name}\\b`));
    }
  });
});

describe('with TRUSTED_DOCUMENTS=playground', () => {
  it('runs a playground operation sent by its hash alone, over HTTP, graphql-ws and single-connection SSE', async () => {
    const { key } = await fundedCustomer(trusted);
    const models = await postByHash(trusted, operations.get('Models')!.hash);
    expect(models.status).toBe(200);
    expect(models.data.models.length).toBeGreaterThan(0);
    const client = wsClient(trusted, key);
    const overWs = await wsRequest(client, '', undefined, byHash(operations.get('Viewer')!.hash));
    await client.dispose();
    expect(overWs.errors).toBeUndefined();
    expect(overWs.data?.viewer).toMatchObject({ available: '10.00' });
    const sse = singleConnectionClient(trusted, key);
    const overSse = await new Promise<any>((resolve, reject) =>
      sse.subscribe({ query: '', extensions: byHash(operations.get('Viewer')!.hash) }, { next: resolve, error: reject, complete: () => undefined }),
    );
    sse.dispose();
    expect(overSse.data?.viewer).toMatchObject({ available: '10.00' });
  });

  it('still runs documents sent as text, for every other client', async () => {
    const response = await gql(trusted, '{ models { id } }');
    expect(response.errors).toBeUndefined();
    const { key } = await fundedCustomer(trusted);
    const sse = singleConnectionClient(trusted, key);
    const result = await collectFrom(sse, '{ viewer { name } }');
    sse.dispose();
    expect(result.errors).toEqual([]);
  });

  it('answers a hash it does not know with PERSISTED_QUERY_NOT_FOUND, over HTTP and graphql-ws', async () => {
    const unknown = '0'.repeat(64);
    const overHttp = await postByHash(trusted, unknown);
    expect(overHttp.status).toBe(400);
    expect(overHttp.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const client = wsClient(trusted);
    const overWs = await wsRequest(client, '', undefined, byHash(unknown));
    await client.dispose();
    expect(overWs.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('without TRUSTED_DOCUMENTS', () => {
  it('knows no hash: a request must carry its document', async () => {
    const response = await postByHash(plain, operations.get('Models')!.hash);
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(response.data ?? undefined).toBeUndefined();
  });
});
