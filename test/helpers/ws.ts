import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLResponse } from './graphql.js';
import type { TestServer } from './server.js';

/** A real graphql-ws client; the token goes in connectionParams as the contract says. */
export function wsClient(server: Pick<TestServer, 'graphqlUrl'>, token?: string | null, connectionParams?: Record<string, unknown>): Client {
  return createClient({
    url: server.graphqlUrl.replace(/^http/, 'ws'),
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
