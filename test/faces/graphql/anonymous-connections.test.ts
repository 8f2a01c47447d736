import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { closeCode, rawSocket, wsClient, wsRequest } from '../../helpers/ws.js';

// Every socket is anonymous until its connection_init has been checked, so
// the cap on anonymous sockets must not turn into a lock-out: past it the
// oldest anonymous socket is closed, and a client that signs in promptly
// gets in. The timeouts are long here so that only the cap closes sockets.

const CAP = 3;
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ WS_MAX_ANONYMOUS_CONNECTIONS: String(CAP), WS_CONNECTION_INIT_TIMEOUT_MS: '15000', WS_IDLE_TIMEOUT_MS: '15000' });
});
afterAll(() => server.stop());

// Each test starts with no socket of an earlier one left on the server.
const opened: WebSocket[] = [];
afterEach(async () => {
  const sockets = opened.splice(0);
  for (const socket of sockets) socket.close();
  await Promise.all(sockets.map((socket) => closeCode(socket)));
});

async function socketOf(params: Record<string, unknown> | null): Promise<WebSocket> {
  const socket = await rawSocket(server, params);
  opened.push(socket);
  return socket;
}

/** `count` sockets that never send connection_init, opened one after another (oldest first). */
async function idleSockets(count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i++) sockets.push(await socketOf(null));
  return sockets;
}

describe('the cap on WebSockets without credentials', () => {
  it('lets a signed-in client connect while the anonymous cap is full of idle sockets', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    await idleSockets(CAP);
    const client = wsClient(server, key);
    try {
      expect((await wsRequest(client, '{ viewer { id } }')).data?.viewer.id).toBe(accountId);
    } finally {
      await client.dispose();
    }
  });

  it('closes the oldest idle anonymous socket (1013) when a new one arrives over the cap', async () => {
    const [oldest, ...younger] = await idleSockets(CAP);
    const newest = await socketOf(null);
    expect(await closeCode(oldest as WebSocket)).toBe(1013);
    expect([...younger, newest].map((socket) => socket.readyState)).toEqual(Array(CAP).fill(WebSocket.OPEN));
  });

  it('does not count an authenticated socket toward the anonymous cap', async () => {
    const { key } = await fundedCustomer(server, '1');
    const signedIn = await socketOf({ authorization: `Bearer ${key}` });
    const [oldestAnonymous] = await idleSockets(CAP + 1);
    // The signed-in socket is older than every anonymous one: had it counted, it would have been closed first.
    expect(await closeCode(oldestAnonymous as WebSocket)).toBe(1013);
    expect(signedIn.readyState).toBe(WebSocket.OPEN);
  });
});
