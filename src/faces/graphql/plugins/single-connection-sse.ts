import type { ExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ConnectionHold } from '../../../domain/access/key-watch.js';
import { RateLimitedError } from '../../../domain/errors.js';
import type { Logger } from '../../../logger.js';
import { SseReservations } from '../sse-reservations.js';
import { forgeryRefusal } from './csrf-prevention.js';

// graphql-sse's names for the stream token (PROTOCOL.md, single connection mode).
const TOKEN_HEADER = 'x-graphql-event-stream-token';
const TOKEN_PARAM = 'token';

// The graphql-sse client opens the event stream right after its PUT.
const CONNECT_WITHIN_MS = 10_000;

// How long a revoked key's event stream stays open for its operations' last events.
const LAST_EVENTS_MS = 1_000;

export interface SingleConnectionOptions {
  /**
   * A place for the stream of the viewer that credentials (an Authorization
   * value) name, ended when they stop being valid; undefined when they name
   * no one. Throws RateLimitedError when the key holds all the streams it may.
   */
  hold(authorization: string): Promise<ConnectionHold | undefined>;
  /** Largest operation body, as for every other GraphQL request (MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  logger: Logger;
}

function streamTokenOf(request: Request): string | null {
  return request.headers.get(TOKEN_HEADER) ?? new URL(request.url).searchParams.get(TOKEN_PARAM);
}

/** The body as text, refused past `maxBytes` whether or not it declared its length. */
async function boundedText(request: Request, maxBytes: number): Promise<string | undefined> {
  if (Number(request.headers.get('content-length')) > maxBytes) return undefined;
  const reader = request.body?.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > maxBytes) {
      await reader?.cancel();
      return undefined;
    }
    parts.push(read.value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The body, finished (closed, not failed: the client sees the stream end) once `cut` aborts; the handler's stream is cancelled then. */
function endedOn(body: ReadableStream<Uint8Array>, cut: AbortSignal): ReadableStream<Uint8Array> {
  const source = body.getReader();
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      cut.addEventListener(
        'abort',
        () => {
          if (open) controller.close();
          open = false;
          void source.cancel().catch(() => undefined);
        },
        { once: true },
      );
    },
    async pull(controller) {
      const read = await source.read().catch(() => ({ done: true, value: undefined }) as const);
      if (!open) return;
      if (read.done) {
        open = false;
        controller.close();
      } else controller.enqueue(read.value);
    },
    cancel: (reason) => source.cancel(reason),
  });
}

type Result = ExecutionResult & { errors?: readonly { toJSON?: () => unknown }[] };

/**
 * What yoga keeps from clients in its own answers: `extensions.http` (the
 * status and headers an error asks for) and `unexpected`.
 */
function withoutInternals(result: Result): ExecutionResult {
  if (!result.errors) return result;
  const errors = result.errors.map((error) => {
    const { extensions, ...rest } = (error.toJSON?.() ?? error) as { extensions?: Record<string, unknown> };
    const { http: _http, unexpected: _unexpected, ...kept } = extensions ?? {};
    return { ...rest, extensions: kept };
  });
  return { ...result, errors } as unknown as ExecutionResult;
}

/**
 * graphql-sse's single-connection mode on /graphql, beside yoga's own SSE
 * (distinct connections: one event stream per operation, unchanged). A
 * PUT with credentials reserves a stream and answers its token; the client
 * opens one event stream with it (GET, text/event-stream) and sends each
 * operation as a POST with the token, which answers 202 and streams its
 * results there; a DELETE with the operation's id stops it.
 *
 * Built on graphql-sse's own handler, with every operation run by
 * `yoga.getResultForParams`, the path of yoga's HTTP requests: the
 * persisted-operation lookup, armor, the auth context (Authorization of
 * that POST), the subscription gauge and error masking all apply, and a
 * refusal (UNAUTHENTICATED, RATE_LIMITED, a bad document) arrives on the
 * stream as a GraphQL error, never as a failed request that the client
 * would retry. (The @graphql-yoga/plugin-graphql-sse adapter parses and
 * builds the context itself and lets those refusals escape as 500s.)
 */
export function useSingleConnectionSse(options: SingleConnectionOptions): Plugin {
  const serverContexts = new WeakMap<Request, object>();
  const reservedTokens = new WeakMap<Request, string>();
  let handle: ((request: Request) => Promise<Response>) | undefined;
  let endpoint = '/graphql';
  let fetchAPI: { Request: typeof Request; Response: typeof Response } = globalThis;

  const refusal = (status: number, code: string, message: string): Response =>
    new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

  // A reservation that never connected: the handler lets go of its stream
  // when its event stream is asked for by a client already gone.
  const reservations = new SseReservations(CONNECT_WITHIN_MS, (token) => {
    const gone = new AbortController();
    gone.abort();
    const request = new fetchAPI.Request(`http://internal${endpoint}`, { headers: { accept: 'text/event-stream', [TOKEN_HEADER]: token }, signal: gone.signal });
    void handle?.(request).then((response) => response.body?.cancel(), () => undefined);
  });

  async function answer(request: Request, serverContext: { res?: { once(event: 'close', listener: () => void): unknown } }): Promise<Response> {
    const handler = handle as (request: Request) => Promise<Response>;
    const authorization = request.headers.get('authorization');
    if (request.method === 'PUT') {
      const held = authorization ? await options.hold(authorization).catch((error: unknown) => (error instanceof RateLimitedError ? error : undefined)) : undefined;
      if (held instanceof RateLimitedError) return refusal(429, held.code, held.message);
      if (!held || !authorization) return refusal(401, 'UNAUTHENTICATED', 'reserving an event stream needs credentials: send "Authorization: Bearer <API key or admin token>"');
      const token = reservations.reserve(authorization, held);
      // A revoked or expired key's stream ends; the key's operations on it end with UNAUTHENTICATED first.
      void held.ended.then((reason) => reason && reservations.cut(token, LAST_EVENTS_MS));
      reservedTokens.set(request, token);
      return handler(request);
    }
    const token = streamTokenOf(request) as string;
    if (!reservations.heldBy(token, authorization)) {
      return refusal(404, 'NOT_FOUND', 'no event stream with this token and these credentials; reserve one with PUT /graphql, and send the same Authorization on every request of the stream');
    }
    if (request.method === 'GET' && request.headers.get('accept') === 'text/event-stream') {
      const response = await handler(request);
      // Not for a second event stream on the same token, which is refused (409).
      if (response.status !== 200 || !response.body) return response;
      const cut = reservations.connected(token);
      // Dropped while the handler answered (its key was revoked): no stream.
      if (!cut) {
        await response.body.cancel();
        return refusal(404, 'NOT_FOUND', 'this event stream was ended: its API key is no longer valid');
      }
      serverContext.res?.once('close', () => reservations.released(token));
      return new fetchAPI.Response(endedOn(response.body, cut), { status: response.status, headers: response.headers });
    }
    if (request.method !== 'POST') return handler(request);
    const forgery = forgeryRefusal(request);
    if (forgery) return refusal(403, 'FORBIDDEN', forgery.message);
    const body = await boundedText(request, options.maxRequestBytes);
    if (body === undefined) return refusal(413, 'BAD_REQUEST', `the request body is larger than ${options.maxRequestBytes} bytes`);
    const operation = new fetchAPI.Request(request.url, { method: 'POST', headers: request.headers, body });
    serverContexts.set(operation, serverContext);
    return handler(operation);
  }

  return {
    onYogaInit({ yoga }) {
      endpoint = yoga.graphqlEndpoint;
      fetchAPI = yoga.fetchAPI;
      handle = createHandler(
        {
          authenticate: (req) => reservedTokens.get(req.raw) ?? streamTokenOf(req.raw),
          onSubscribe: async (req, params) => {
            const result = await yoga.getResultForParams({ params, request: req.raw }, { ...serverContexts.get(req.raw) });
            if (isAsyncIterable(result)) return result as AsyncIterable<ExecutionResult>;
            // graphql-sse takes an object without `data` for execution arguments.
            const single = result as ExecutionResult;
            return 'data' in single ? single : { data: null, ...single };
          },
          onNext: (_ctx, _req, result) => withoutInternals(result as Result),
        },
        yoga.fetchAPI,
      );
    },
    onRequest({ request, serverContext, endResponse }) {
      if (new URL(request.url).pathname !== endpoint) return;
      // Requests without a token are yoga's own SSE (distinct connections) or plain GraphQL.
      if (request.method !== 'PUT' && streamTokenOf(request) === null) return;
      return answer(request, serverContext as never).then(endResponse, (error: unknown) => {
        options.logger.error({ err: error }, 'unexpected error in a single-connection SSE request');
        endResponse(refusal(500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.'));
      });
    },
  };
}
