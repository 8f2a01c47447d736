import { once } from 'node:events';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLResponse } from './graphql.js';
import type { TestServer } from './server.js';

const wsUrlOf = (server: Pick<TestServer, 'graphqlUrl'>) => server.graphqlUrl.replace(/^http/, 'ws');

/** A real graphql-ws client; the token goes in connectionParams as the contract says. */
export function wsClient(server: Pick<TestServer, 'graphqlUrl'>, token?: string | null, connectionParams?: Record<string, unknown>): Client {
  return createClient({
    url: wsUrlOf(server),
    webSocketImpl: WebSocket,
    connectionParams: connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
    retryAttempts: 0,
    lazy: true,
  });
}

/** Runs one operation over the socket and returns its single result. */
export function wsRequest<T = Record<string, any>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
  extensions?: Record<string, unknown>,
): Promise<Omit<GraphQLResponse<T>, 'status'>> {
  return new Promise((resolve, reject) => {
    let result: Omit<GraphQLResponse<T>, 'status'> | undefined;
    client.subscribe<T>(
      { query, variables, extensions },
      {
        next: (value) => {
          result = value as Omit<GraphQLResponse<T>, 'status'>;
        },
        error: (error) => {
          if (Array.isArray(error)) resolve({ errors: error as never });
          else reject(error instanceof Error ? error : new Error(`socket closed: ${JSON.stringify(error)}`));
        },
        complete: () => resolve(result ?? {}),
      },
    );
  });
}

const closedWith = new WeakMap<WebSocket, number>();

/** A raw graphql-ws socket, spoken to directly: opened and, unless `params` is null, initialised (acknowledged, or closed instead). */
export async function rawSocket(server: Pick<TestServer, 'graphqlUrl'>, params: Record<string, unknown> | null): Promise<WebSocket> {
  const socket = new WebSocket(wsUrlOf(server), 'graphql-transport-ws');
  socket.once('close', (code: number) => closedWith.set(socket, code));
  await once(socket, 'open');
  if (params) await initialise(socket, params);
  return socket;
}

/** Sends connection_init: true once the server acknowledges it, false when it closes the socket instead. */
export function initialise(socket: WebSocket, params: Record<string, unknown>): Promise<boolean> {
  if (socket.readyState !== WebSocket.OPEN) return Promise.resolve(false);
  const answered = new Promise<boolean>((resolve) => {
    socket.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve(true));
    socket.once('close', () => resolve(false));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
  return answered;
}

/** How the server closed a raw socket (now, or when it does). */
export const closeCode = (socket: WebSocket) =>
  new Promise<number>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve(closedWith.get(socket) ?? 0);
    else socket.once('close', (code: number) => resolve(code));
  });
