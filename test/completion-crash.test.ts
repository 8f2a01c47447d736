import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/upstream/simulator.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { gqlOk } from './helpers/graphql.js';
import { startMutation, streamQuery, userMessage } from './helpers/completions.js';
import { createDatabase, databaseUrl, dropDatabase, testTemplate } from './helpers/postgres.js';
import { collectWs } from './helpers/subscriptions.js';
import { wsClient } from './helpers/ws.js';
import pg from 'pg';

const ADMIN_TOKEN = 'crash-test-admin-token-0123';
let simulator: Simulator;
let database: string;
let db: pg.Pool;
const children: ServerProcess[] = [];

async function start(): Promise<ServerProcess> {
  const child = await startServerProcess({
    DATABASE_URL: databaseUrl(database),
    UPSTREAM_BASE_URL: simulator.baseUrl,
    UPSTREAM_API_KEY: 'th-upstream-test-key',
  }, ADMIN_TOKEN);
  children.push(child);
  return child;
}

beforeAll(async () => {
  simulator = await startSimulator();
  database = await createDatabase(testTemplate());
  db = new pg.Pool({ connectionString: databaseUrl(database), max: 2 });
});
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
  await db.end();
  await dropDatabase(database);
  await simulator.close();
});

describe('a server process killed mid-stream', () => {
  it('leaves its completions INTERRUPTED with the reservation released at the next start', async () => {
    const first = await start();
    const admin = { graphqlUrl: first.graphqlUrl };
    const account = (await gqlOk(admin, 'mutation { createAccount(input: { name: "crash" }) { id } }', { token: ADMIN_TOKEN })).createAccount.id;
    await gqlOk(admin, `mutation { grantCredits(input: { accountId: "${account}", amount: "3" }) { id } }`, { token: ADMIN_TOKEN });
    const key = (await gqlOk(admin, `mutation { createApiKey(input: { accountId: "${account}", name: "k" }) { secret } }`, { token: ADMIN_TOKEN })).createApiKey.secret;

    simulator.enqueue({ tokens: Array.from({ length: 500 }, () => 'slow '), interTokenMs: 20 });
    const started = (await gqlOk(admin, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('go') } } })).startCompletion;
    const client = wsClient(admin, key);
    await collectWs(client, streamQuery, { id: started.id }, (event: any, stop) => {
      if (event.completionStream.index >= 2) stop();
    });
    await client.dispose();

    await first.kill('SIGKILL');
    const dead = await db.query('select status, reserved::text from completions where id = $1', [started.id]);
    expect(dead.rows[0].status).toBe('PENDING');
    expect((await db.query('select reserved::text from accounts where id = $1', [account])).rows[0].reserved).toBe(dead.rows[0].reserved);

    const second = await start();
    const completion = (await gqlOk({ graphqlUrl: second.graphqlUrl }, 'query($id: ID!) { completion(id: $id) { status cost error { code } } }', { token: key, variables: { id: started.id } })).completion;
    expect(completion).toEqual({ status: 'INTERRUPTED', cost: '0.00', error: { code: 'INTERRUPTED' } });
    const viewer = (await gqlOk({ graphqlUrl: second.graphqlUrl }, '{ viewer { balance reserved } }', { token: key })).viewer;
    expect(viewer).toEqual({ balance: '3.00', reserved: '0.00' });
    const replay = wsClient({ graphqlUrl: second.graphqlUrl }, key);
    const { data } = await collectWs<{ completionStream: any }>(replay, streamQuery, { id: started.id, after: 2 });
    await replay.dispose();
    expect(data.map((d) => [d.completionStream.index, d.completionStream.done])).toEqual([[3, true]]);
  });
});
