import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, fundedCustomer } from '../../helpers/fixtures.js';
import { codeOf, gql } from '../../helpers/graphql.js';
import { startServer, type TestServer } from '../../helpers/server.js';

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

describe('a failed SQL statement', () => {
  it('is logged with its SQLSTATE but without its parameters', async () => {
    const accountId = await createAccount(server);
    const marker = `private-note-${randomUUID()}`;
    // Break this file's own database: the grant's insert, which carries the note, fails.
    await server.pg.query('alter table ledger_entries add constraint no_notes check (note is null) not valid');
    try {
      const response = await gql(server, 'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id } }', {
        token: server.adminToken,
        variables: { input: { accountId, amount: '1', note: marker } },
      });
      expect(codeOf(response)).toBe('INTERNAL_SERVER_ERROR');
      const logs = server.logs.join('\n');
      expect(logs).toContain('"code":"23514"');
      expect(logs).not.toContain(marker);
    } finally {
      await server.pg.query('alter table ledger_entries drop constraint no_notes');
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
