import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

// How the soak's clients reach the one gateway under test, and the phase
// they run in: every loop ends when its phase's signal aborts.

export interface SoakTarget {
  /** http://127.0.0.1:port (the OpenAI face is under /v1). */
  baseUrl: string;
  graphqlUrl: string;
  wsUrl: string;
  adminToken: string;
}

export function targetOf(port: number, adminToken: string): SoakTarget {
  const baseUrl = `http://127.0.0.1:${port}`;
  return { baseUrl, graphqlUrl: `${baseUrl}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, adminToken };
}

export const MODEL = 'claude-haiku-4-5';

/** No request may hang the soak: one that takes this long has failed. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** A POST answered with JSON when it can be: a 5xx from a proxy or a crash may not be JSON. */
export async function postJson<T = Record<string, any>>(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    return { status: response.status, body: { text: text.slice(0, 200) } as T };
  }
}

export interface GraphQLBody<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

/** One GraphQL operation over HTTP; `body` may be a prepared JSON string (hostile bodies JSON.stringify cannot build). */
export function graphql<T = Record<string, any>>(
  target: SoakTarget,
  body: string | { query: string; variables?: Record<string, unknown> },
  token?: string,
): Promise<Answer<GraphQLBody<T>>> {
  return postJson(target.graphqlUrl, typeof body === 'string' ? body : JSON.stringify(body), token ? { authorization: `Bearer ${token}` } : {});
}

/**
 * A graphql-ws client as a frontend has one: `persistent`, one socket kept
 * open between operations (else one per operation, graphql-ws's lazy
 * default); either way retrying a connection closed with 1013 ("try again
 * later": past the anonymous cap the server closes its oldest anonymous
 * socket, which a signed-in one is only while its handshake is under way)
 * as graphql-ws does by default. `onServerClose` hears of every close but the client's own.
 */
export function wsClientOf(target: SoakTarget, apiKey: string, options: { persistent?: boolean; onServerClose?: (code: number) => void } = {}): Client {
  return createClient({
    url: target.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${apiKey}` },
    lazy: !options.persistent,
    retryAttempts: 5,
    on: {
      closed: (event) => {
        const code = (event as { code?: number }).code ?? 0;
        if (code !== 1000) options.onServerClose?.(code);
      },
    },
  });
}

const closeCodes = new WeakMap<WebSocket, number>();

/** A raw graphql-ws socket, for clients that break the protocol's expectations on purpose. */
export function rawSocket(target: SoakTarget): WebSocket {
  const socket = new WebSocket(target.wsUrl, 'graphql-transport-ws');
  // Remembered for closeCodeWithin, as the socket may close before anyone asks.
  socket.once('close', (code: number) => closeCodes.set(socket, code));
  // A refused upgrade or a reset shows as a close (1006); the error itself says nothing more.
  socket.on('error', () => undefined);
  return socket;
}

/** How the socket closed (the code), or 'open' if it still was after `timeoutMs`. */
export function closeCodeWithin(socket: WebSocket, timeoutMs: number): Promise<number | 'open'> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(closeCodes.get(socket) ?? 1006);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), timeoutMs);
    socket.once('close', (code: number) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** The value, or 'timeout' after `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Sleeps `ms`, or less if the phase ends first. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}
