import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccount } from '../helpers/fixtures.js';
import { codeOf, gql } from '../helpers/graphql.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
});
afterAll(() => server.stop());

it('cancels a statement that runs past DATABASE_STATEMENT_TIMEOUT_MS instead of holding the request', async () => {
  const accountId = await createAccount(server);
  // Another session holds the account's row lock, so the grant's update waits on it.
  const blocker = await server.pg.connect();
  try {
    await blocker.query('begin');
    await blocker.query('select 1 from accounts where id = $1 for update', [accountId]);
    const started = Date.now();
    const response = await gql(server, 'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id } }', {
      token: server.adminToken,
      variables: { input: { accountId, amount: '1' } },
    });
    expect(codeOf(response)).toBe('INTERNAL_SERVER_ERROR');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.logs.some((line) => line.includes('"code":"57014"'))).toBe(true);
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
});

/** Closes the gateway's idle connections from the server side; resolves with the warnings they caused. */
async function terminateIdleConnections(): Promise<string[]> {
  await createAccount(server);
  await server.pg.query(
    `select pg_terminate_backend(pid) from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid() and state = 'idle'`,
  );
  const closed = () => server.logs.filter((line) => line.includes('"code":"57P01"'));
  for (let attempt = 0; attempt < 50 && closed().length === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return closed();
}

it('logs an idle connection that the database closed', async () => {
  expect((await terminateIdleConnections()).map((line) => JSON.parse(line).level)).toContain(40);
});

it('logs a closed idle connection as its error alone, not the pool client that held it', async () => {
  const [line] = await terminateIdleConnections();
  expect(Object.keys(JSON.parse(line!).err).sort()).toEqual(expect.arrayContaining(['code', 'message', 'stack', 'type']));
  expect(line).not.toMatch(/connectionParameters|"client"|_queryQueue/);
});

it('closes at shutdown even when the database refuses to remove the instance', async () => {
  const own = await startServer({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
  // Another session holds this instance's row, so its removal runs into the statement timeout.
  const blocker = await own.pg.connect();
  await blocker.query('begin');
  await blocker.query('select 1 from instances for update');
  const stopping = own.stop();
  const refused = () => own.logs.some((line) => line.includes('could not remove this instance at shutdown'));
  for (let attempt = 0; attempt < 100 && !refused(); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
  await blocker.query('rollback');
  blocker.release();
  await stopping;
  expect(refused()).toBe(true);
});
