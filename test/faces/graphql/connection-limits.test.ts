import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { fundedCustomer, grant } from '../../helpers/fixtures.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { collectSse } from '../../helpers/subscriptions.js';
import { closeCode, initialise, rawSocket, wsClient } from '../../helpers/ws.js';

// One key, or one client, must not hurt other accounts: what a connection
// and a key may hold open is bounded, idle and anonymous connections do not
// pile up, and a balance change costs one read however many follow it.

let server: TestServer;
/** Its idle timeout is the shorter one: until connection_init, only the init timeout may close a socket. */
let idleFirst: TestServer;
beforeAll(async () => {
  [server, idleFirst] = await Promise.all([
    startServer({
      WS_MAX_SUBSCRIPTIONS: '250',
      MAX_STREAMS_PER_KEY: '300',
      WS_IDLE_TIMEOUT_MS: '700',
      WS_CONNECTION_INIT_TIMEOUT_MS: '500',
    }),
    startServer({ WS_IDLE_TIMEOUT_MS: '300', WS_CONNECTION_INIT_TIMEOUT_MS: '1500' }),
  ]);
});
afterAll(() => Promise.all([server?.stop(), idleFirst?.stop()]));

const balanceQuery = 'subscription { balance { balance } }';

/** Subscribes `count` times on one socket and resolves once each has its first value. */
async function balanceFollowers(key: string, count: number): Promise<WebSocket> {
  const socket = await rawSocket(server, { authorization: `Bearer ${key}` });
  let firsts = 0;
  const allFirst = new Promise<void>((resolve) =>
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'next' && ++firsts === count) resolve();
    }),
  );
  for (let i = 0; i < count; i++) socket.send(JSON.stringify({ id: `b${i}`, type: 'subscribe', payload: { query: balanceQuery } }));
  await allFirst;
  return socket;
}

const accountReads = (statements: string[]) => statements.filter((s) => /^select .* from "accounts"/i.test(s)).length;

/** The statements the server sends because of one grant, once every follower has seen it. */
async function readsForAGrant(accountId: string, socket: WebSocket, followers: number): Promise<number> {
  let updates = 0;
  const allUpdated = new Promise<void>((resolve) =>
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'next' && ++updates === followers) resolve();
    }),
  );
  const before = server.statements.length;
  await grant(server, accountId, '1');
  await allUpdated;
  return accountReads(server.statements.slice(before));
}

describe('a balance change', () => {
  it('costs one read of the account, whether one subscription follows it or two hundred', async () => {
    const one = await fundedCustomer(server, '1');
    const many = await fundedCustomer(server, '1');
    const single = await balanceFollowers(one.key, 1);
    const crowd = await balanceFollowers(many.key, 200);
    const forOne = await readsForAGrant(one.accountId, single, 1);
    const forMany = await readsForAGrant(many.accountId, crowd, 200);
    single.close();
    crowd.close();
    expect(forOne).toBe(1);
    expect(forMany).toBe(forOne);
  });
});

describe('a graphql-ws connection', () => {
  it('holding WS_MAX_SUBSCRIPTIONS operations is refused the next one with RATE_LIMITED', async () => {
    const { key } = await fundedCustomer(server, '1');
    const socket = await balanceFollowers(key, 250);
    const refused = new Promise<any>((resolve) =>
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.id === 'over' && message.type === 'error') resolve(message.payload);
      }),
    );
    socket.send(JSON.stringify({ id: 'over', type: 'subscribe', payload: { query: balanceQuery } }));
    expect((await refused)[0].extensions.code).toBe('RATE_LIMITED');
    socket.close();
  });

  it('that never sends connection_init is closed after WS_CONNECTION_INIT_TIMEOUT_MS (4408)', async () => {
    const socket = await rawSocket(server, null);
    expect(await closeCode(socket)).toBe(4408);
  });

  it('that never subscribes is closed after WS_IDLE_TIMEOUT_MS', async () => {
    const { key } = await fundedCustomer(server, '1');
    const socket = await rawSocket(server, { authorization: `Bearer ${key}` });
    expect(await closeCode(socket)).toBe(4000);
  });

  it('with bad credentials is held as one without: closed when idle', async () => {
    const socket = await rawSocket(server, { authorization: 'Bearer th-not-a-key' });
    expect(await closeCode(socket)).toBe(4000);
  });

  it('that never sends connection_init is closed by the init timeout (4408) even when the idle timeout is shorter', async () => {
    const socket = await rawSocket(idleFirst, null);
    expect(await closeCode(socket)).toBe(4408);
  });

  it('counts its idle time from the acknowledgement of its connection_init, not from its opening', async () => {
    const { key } = await fundedCustomer(idleFirst, '1');
    const socket = await rawSocket(idleFirst, null);
    await sleep(600); // twice WS_IDLE_TIMEOUT_MS, well within WS_CONNECTION_INIT_TIMEOUT_MS
    expect(await initialise(socket, { authorization: `Bearer ${key}` })).toBe(true);
    const acknowledgedAt = Date.now();
    expect(await closeCode(socket)).toBe(4000);
    // Timers round to the millisecond and may fire a little early; 300 ms from the opening would be long past.
    expect(Date.now() - acknowledgedAt).toBeGreaterThanOrEqual(250);
  });
});

describe('a key', () => {
  it('holding MAX_STREAMS_PER_KEY streams is refused the next with RATE_LIMITED, on any connection and over SSE', async () => {
    const { key } = await fundedCustomer(server, '1');
    const first = await balanceFollowers(key, 200);
    const second = await balanceFollowers(key, 100);
    const client = wsClient(server, key);
    const overWs = await new Promise<any>((resolve) => client.subscribe({ query: balanceQuery }, { next: resolve, error: resolve, complete: () => undefined }));
    expect(overWs.errors?.[0]?.extensions?.code ?? overWs[0]?.extensions?.code).toBe('RATE_LIMITED');
    const overSse = await collectSse(server, key, balanceQuery, {});
    expect(overSse.errors[0]?.extensions?.code).toBe('RATE_LIMITED');
    await client.dispose();
    first.close();
    second.close();
  });
});
