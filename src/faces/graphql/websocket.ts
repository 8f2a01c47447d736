import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { WebSocketLimits } from '../../config.js';
import { ConnectionGuard } from './connection-guard.js';
import type { TrustedDocuments } from './trusted-documents.js';
import type { Yoga } from './yoga.js';

type EnvelopedArgs = ExecutionArgs & {
  rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
};

// The request yoga's context sees for a connection's operations, made once
// per connection: connectionParams do not change after the handshake.
const connectionRequests = new WeakMap<object, Request>();

/**
 * The contract's `connectionParams.authorization`; clients that copy their
 * HTTP headers (`Authorization`, or a nested `headers` object) work too.
 */
function authorizationOf(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  const headers = typeof params.headers === 'object' && params.headers !== null ? (params.headers as Record<string, unknown>) : {};
  return params.authorization ?? params.Authorization ?? headers.authorization ?? headers.Authorization;
}

function requestOf(connection: object, params: Record<string, unknown> | undefined): Request {
  let request = connectionRequests.get(connection);
  if (!request) {
    const authorization = authorizationOf(params);
    // POST, as graphql-ws carries mutations too (yoga refuses them over GET).
    request = new Request('http://websocket/graphql', {
      method: 'POST',
      headers: typeof authorization === 'string' && authorization.trim() ? { authorization } : {},
    });
    connectionRequests.set(connection, request);
  }
  return request;
}

/**
 * graphql-ws only sends errors that are instances of its own graphql build,
 * while yoga and graphql-tools may create them from the other (CJS) build.
 * `extensions.http` (the status and headers yoga answers HTTP with) means
 * nothing on a socket and stays on the server.
 */
function wireError(error: unknown, fallbackCode: string): GraphQLError {
  const source = error as Partial<GraphQLError> | undefined;
  const { http: _http, ...extensions } = source?.extensions ?? {};
  return new GraphQLError(source?.message ?? 'the operation was refused', {
    nodes: source?.nodes,
    extensions: { code: fallbackCode, ...extensions },
  });
}

/**
 * graphql-ws on the same port and path as HTTP. Every operation goes through
 * yoga's envelop (auth context, error masking, armor), so WebSocket clients
 * meet exactly the rules HTTP clients do. The token travels in
 * connectionParams.authorization; it is checked at the handshake and again
 * per operation, so a key revoked mid-connection stops working for the next
 * operation (and its open subscriptions end: see KeyWatch).
 */
export interface WebSocketOptions {
  /** A larger message closes the socket (1009) before it is buffered whole or parsed. */
  maxMessageBytes: number;
  limits: WebSocketLimits;
  /** Whether credentials (an Authorization value) name a viewer; throws when they are invalid. */
  signsIn(authorization: string | undefined): Promise<boolean>;
  /** Documents sent by hash, as over HTTP (yoga's onParams does not run here). */
  trustedDocuments?: TrustedDocuments;
}

export function attachWebSocket(httpServer: Server, yoga: Yoga, options: WebSocketOptions): { close(): Promise<void> } {
  const { maxMessageBytes, limits } = options;
  const wsServer = new WebSocketServer({ server: httpServer, path: yoga.graphqlEndpoint, maxPayload: maxMessageBytes });
  const guard = new ConnectionGuard(limits);
  wsServer.on('connection', (socket) => guard.opened(socket));
  useServer(
    {
      // Never put a failure's message in a close reason, whatever NODE_ENV says.
      isProd: true,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args) as never,
      // A connection whose credentials name nobody (none, or bad ones) is
      // held as anonymous: capped, closed when idle, and each of its
      // operations refused with the reason (UNAUTHENTICATED) but public ones.
      // graphql-ws sends connection_ack as soon as this returns.
      onConnect: async (ctx) => {
        const authorization = authorizationOf(ctx.connectionParams);
        const signedIn = await options.signsIn(typeof authorization === 'string' ? authorization : undefined).catch(() => false);
        guard.acknowledged(ctx.extra.socket, signedIn);
        return true;
      },
      onComplete: (ctx, id) => guard.ended(ctx.extra.socket, id),
      onSubscribe: async (ctx, id, payload) => {
        const request = requestOf(ctx.extra, ctx.connectionParams);
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          request,
          params: payload,
        });
        let document;
        try {
          document = parse(options.trustedDocuments ? options.trustedDocuments.documentOf(payload) : payload.query);
        } catch (error) {
          return [wireError(error, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors.map((e: unknown) => wireError(e, 'GRAPHQL_VALIDATION_FAILED'));
        let contextValue;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          return [wireError(error, 'UNAUTHENTICATED')];
        }
        if (!guard.starting(ctx.extra.socket, id)) {
          return [
            new GraphQLError(`this connection holds ${limits.maxSubscriptions} operations, the most it may; complete one or open another connection`, {
              extensions: { code: 'RATE_LIMITED', retryAfter: 1 },
            }),
          ];
        }
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    wsServer,
  );
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wsServer.clients) client.terminate();
        wsServer.close(() => resolve());
      }),
  };
}
