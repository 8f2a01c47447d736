import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundedCustomer } from './helpers/fixtures.js';
import { gql } from './helpers/graphql.js';
import { startServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

describe('unexpected failures', () => {
  it('are masked for the client and logged for the operator', async () => {
    const { key } = await fundedCustomer(server);
    // Break this file's own database under the running server.
    await server.pg.query('alter table accounts rename column name to broken_name');
    try {
      const response = await gql(server, '{ viewer { id name } }', { token: key });
      const error = response.errors?.[0];
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error?.message).toBe('Unexpected error.');
      expect(JSON.stringify(response)).not.toMatch(/broken_name|select|accounts|at .*\.ts/);
      expect(server.logs.some((l) => l.includes('unexpected error') && l.includes('name'))).toBe(true);
    } finally {
      await server.pg.query('alter table accounts rename column broken_name to name');
    }
  });
});

describe('GraphiQL', () => {
  it('is served to a browser on GET /graphql', async () => {
    const response = await fetch(server.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/GraphiQL|graphiql/);
  });
});
