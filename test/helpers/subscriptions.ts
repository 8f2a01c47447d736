import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import type { Client } from 'graphql-ws';
import type { TestServer } from './server.js';

export interface StreamResult<T = Record<string, any>> {
  data: T[];
  errors: { message: string; extensions?: Record<string, any> }[];
}

/** A client of either protocol: graphql-ws, or graphql-sse (one operation per subscribe). */
type Subscriber = Pick<Client, 'subscribe'> | Pick<SseClient<boolean>, 'subscribe'>;

/**
 * Collects one operation of a graphql-ws or graphql-sse client until it
 * completes or errors (GraphQL errors are collected; a closed socket or
 * broken stream rejects); `onEvent` may stop it early.
 */
export function collectFrom<T = Record<string, any>>(
  client: Subscriber,
  query: string,
  variables: Record<string, unknown> = {},
  onEvent?: (data: T, stop: () => void) => void,
): Promise<StreamResult<T>> {
  return new Promise((resolve, reject) => {
    const result: StreamResult<T> = { data: [], errors: [] };
    const stop = (client as Pick<Client, 'subscribe'>).subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) result.errors.push(...(value.errors as never[]));
          if (value.data) {
            result.data.push(value.data as T);
            onEvent?.(value.data as T, () => {
              stop();
              resolve(result);
            });
          }
        },
        error: (error) => {
          if (Array.isArray(error)) {
            result.errors.push(...(error as never[]));
            resolve(result);
          } else reject(error instanceof Error ? error : new Error(`socket closed: ${JSON.stringify(error)}`));
        },
        complete: () => resolve(result),
      },
    );
  });
}

/** Collects a subscription over Server-Sent Events with the graphql-sse client (distinct connections). */
export function collectSse<T = Record<string, any>>(
  server: Pick<TestServer, 'graphqlUrl'>,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<StreamResult<T>> {
  const client = createSseClient({
    url: server.graphqlUrl,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  return new Promise((resolve, reject) => {
    const result: StreamResult<T> = { data: [], errors: [] };
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) result.errors.push(...(value.errors as never[]));
          if (value.data) result.data.push(value.data as T);
        },
        error: (error) => {
          client.dispose();
          if (Array.isArray(error)) resolve({ ...result, errors: [...result.errors, ...(error as never[])] });
          else reject(error instanceof Error ? error : new Error(String(error)));
        },
        complete: () => {
          client.dispose();
          resolve(result);
        },
      },
    );
  });
}

/** A graphql-sse client in single-connection mode: one reservation (PUT) and one event stream for all its operations. */
export function singleConnectionClient(server: Pick<TestServer, 'graphqlUrl'>, token: string, options: { lazy?: boolean } = {}): SseClient<true> {
  return createSseClient({ url: server.graphqlUrl, singleConnection: true, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0, ...options });
}
