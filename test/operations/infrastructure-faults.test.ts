import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { runToEnd, startCompletion, startMutation, startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { createDatabase, databaseUrl, dropDatabase, testTemplate } from '../helpers/postgres.js';
import { deleteKeys, redisUrl, testKeyPrefix } from '../helpers/redis.js';
import type { TestServer } from '../helpers/server.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { wsClient } from '../helpers/ws.js';

// Postgres and Redis are cut (a proxy resets every connection and refuses new
// ones for seconds) while completions stream. Afterwards every completion is
// terminal and charged once, every subscriber received every event once,
// requests during the cut were answered (masked errors, never a hang), and
// new work succeeds.

const ACTIVE = `select count(*)::int as n from completions where status in ('PENDING', 'STREAMING')`;

/** A request that must be answered, well or badly, within `ms`: a hang fails it. */
async function answeredWithin<T>(ms: number, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return request(AbortSignal.timeout(ms));
}

describe('a Postgres cut while completions stream', () => {
  let server: TestServer;
  let simulator: Simulator;
  let proxy: TcpProxy;
  beforeAll(async () => {
    const direct = new URL(databaseUrl('postgres'));
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    ({ server, simulator } = await startServerWithSimulator(
      { UPSTREAM_IDLE_TIMEOUT_MS: '5000', DATABASE_STATEMENT_TIMEOUT_MS: '3000' },
      {
        reachDatabase: (url) => {
          const through = new URL(url);
          through.host = `127.0.0.1:${proxy.port}`;
          return through.toString();
        },
      },
    ));
  });
  afterAll(async () => {
    await server.stop();
    await proxy.close();
  });

  it('leaves every completion terminal and charged once, answers requests during the cut, and serves new work after', async () => {
    const customers = await Promise.all(Array.from({ length: 4 }, () => fundedCustomer(server, '5')));
    for (let i = 0; i < customers.length; i++) simulator.enqueue({ tokens: Array.from({ length: 30 }, (_, t) => `c${i}t${t} `), interTokenMs: 60 });
    const started = await Promise.all(customers.map(({ key }) => startCompletion(server, key, { maxTokens: 200 })));

    const cut = proxy.cut(4_000);
    // Requests during the cut: answered, with masked errors.
    const viewer = await answeredWithin(15_000, (signal) =>
      fetch(server.graphqlUrl, {
        method: 'POST',
        signal,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${customers[0]!.key}` },
        body: JSON.stringify({ query: '{ viewer { balance } completion(id: "00000000-0000-4000-8000-000000000000") { id } }' }),
      }).then((r) => r.json() as Promise<any>),
    );
    if (viewer.errors) expect(viewer.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(viewer)).not.toMatch(/ECONNRESET|select|ECONNREFUSED|at .*\.ts/);
    const ready = await answeredWithin(15_000, (signal) => fetch(`${server.url}/ready`, { signal }));
    expect(ready.status).toBe(503);
    await cut;

    await expect.poll(async () => (await server.pg.query(ACTIVE)).rows[0].n, { timeout: 30_000, interval: 200 }).toBe(0);
    const { rows } = await server.pg.query(
      `select c.status, count(l.id)::int as charges from completions c left join ledger_entries l on l.completion_id = c.id and l.kind = 'CHARGE'
       where c.id = any($1) group by c.id, c.status`,
      [started.map((s) => s.id)],
    );
    expect(rows).toEqual(started.map(() => ({ status: 'SUCCEEDED', charges: 1 })));
    await expectLedgerInvariant(server);
    expect(await runToEnd(server, customers[1]!.key, { messages: userMessage('after the cut') })).toMatchObject({ status: 'SUCCEEDED' });
  }, 60_000);
});

describe('a Redis cut while a subscriber on one instance follows a completion on another', () => {
  let simulator: Simulator;
  let proxy: TcpProxy;
  let database: string;
  let pool: pg.Pool;
  let apps: { app: App; graphqlUrl: string; adminToken: string }[] = [];
  const keyPrefix = testKeyPrefix();

  beforeAll(async () => {
    simulator = await startSimulator();
    const redis = new URL(redisUrl);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    database = await createDatabase(testTemplate());
    pool = new pg.Pool({ connectionString: databaseUrl(database), max: 2 });
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: databaseUrl(database),
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      REDIS_KEY_PREFIX: keyPrefix,
      UPSTREAM_BASE_URL: simulator.baseUrl,
      UPSTREAM_API_KEY: 'th-upstream-test-key',
      UPSTREAM_IDLE_TIMEOUT_MS: '5000',
      ADMIN_TOKEN: 'fault-test-admin-token-0123456789',
      LOG_LEVEL: 'silent',
    });
    apps = [];
    for (let i = 0; i < 2; i++) {
      const app = await buildApp(config, { logger: createLogger(config) });
      const url = await app.start();
      apps.push({ app, graphqlUrl: `${url}/graphql`, adminToken: app.adminToken });
    }
  });
  afterAll(async () => {
    for (const { app } of apps) await app.stop();
    await Promise.allSettled([proxy?.close(), simulator?.close(), pool?.end(), deleteKeys(keyPrefix)]);
    if (database) await dropDatabase(database);
  });

  it('delivers every event to the subscriber exactly once, in order, and charges the completion once', async () => {
    const [a, b] = apps as [(typeof apps)[number], (typeof apps)[number]];
    const { key } = await fundedCustomer(a, '5');
    const tokens = Array.from({ length: 40 }, (_, t) => `r${t} `);
    simulator.enqueue({ tokens, interTokenMs: 50 });
    const started = await gqlOk(a, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('redis'), maxTokens: 100 } } });
    const id = started.startCompletion.id as string;
    let cut: Promise<void> | undefined;
    const follower = wsClient(b, key);
    const { data, errors } = await collectFrom<{ completionStream: any }>(follower, streamQuery, { id }, (event) => {
      // Longer than ioredis's own budget (20 reconnect attempts, about 10 s)
      // for the commands it holds: they must still get through, in order.
      if (event.completionStream.index === 5 && !cut) cut = proxy.cut(12_000);
    });
    await follower.dispose();
    await cut;
    expect(errors).toEqual([]);
    const events = data.map((d) => d.completionStream);
    expect(events.map((e) => e.index)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.done)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ done: true, completion: { status: 'SUCCEEDED', content: tokens.join('') } });
    expect(events.map((e) => e.delta).join('')).toBe(tokens.join(''));
    const { rows } = await pool.query(`select count(*)::int as n from ledger_entries where completion_id = $1 and kind = 'CHARGE'`, [id]);
    expect(rows[0].n).toBe(1);
    await expectLedgerInvariant({ pg: pool });
    // New work goes through Redis again.
    expect((await gql(b, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('after') } } })).errors).toBeUndefined();
  }, 60_000);
});
