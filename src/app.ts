import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from './config.js';
import { openDatabase, type DatabaseOptions } from './db/database.js';
import { noCompletionTracer } from './domain/completions/completion-tracer.js';
import { openDomain, type Domain } from './domain/domain.js';
import { buildSchema } from './faces/graphql/schema.js';
import { attachWebSocket } from './faces/graphql/websocket.js';
import { TrustedDocuments } from './faces/graphql/trusted-documents.js';
import { createGraphQLServer } from './faces/graphql/yoga.js';
import { anthropicRoutes } from './faces/anthropic/anthropic-router.js';
import { openAIRoutes } from './faces/openai/openai-router.js';
import { withCors } from './http/cors.js';
import { opsPaths, opsRoutes } from './http/ops-routes.js';
import { createPlayground } from './http/playground.js';
import { bundlePlayground } from './http/playground-bundle.js';
import { playgroundOperations } from './http/playground-operations.js';
import { withRequestLog } from './http/request-log.js';
import { withRequestMetrics } from './http/request-metrics.js';
import { withRequestSpans } from './http/request-spans.js';
import { routeRequests } from './http/router.js';
import { createLogger, type Logger } from './logger.js';
import { completionSpans } from './observability/completion-spans.js';
import { Metrics } from './observability/metrics.js';
import { useOperationSpans } from './observability/operation-spans.js';
import { openTracing, type TracingOptions } from './observability/tracing.js';
import { openRealtime } from './realtime/realtime.js';
import { startSimulator, type Simulator } from './simulator/simulator.js';
import { createUpstreamClient } from './upstream/client.js';

export interface App {
  domain: Domain;
  /** The admin token in force: configured, or generated for this process. */
  adminToken: string;
  /** Listens on config.port (0 picks a free port); resolves to the base URL. */
  start(): Promise<string>;
  /** Closes sockets, the database and everything else the app opened. */
  stop(): Promise<void>;
}

/** How long a stopping server lets last events reach subscribers before closing sockets. */
const SUBSCRIBER_FLUSH_MS = 200;

export interface AppOptions extends DatabaseOptions {
  logger?: Logger;
  /** Turns tracing on, with spans going here instead of over OTLP: the tests' in-memory exporter. */
  spanProcessor?: TracingOptions['spanProcessor'];
}

/** Wires config to the domain, its ports and its faces, behind one HTTP server. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const database = await openDatabase(config.database, {
    onPoolError: (error) => logger.warn({ err: error }, 'a Postgres connection failed while idle; the pool replaces it'),
    ...options,
  });
  const adminToken = config.adminToken ?? `admin-${randomBytes(24).toString('base64url')}`;

  // Without an upstream key the built-in simulator serves completions, over
  // real HTTP, so the same client code runs as in production.
  let simulator: Simulator | undefined;
  if (config.upstream.kind === 'simulator') {
    simulator = await startSimulator({ ttftMs: config.upstream.ttftMs, interTokenMs: config.upstream.interTokenMs });
  }
  const upstream = createUpstreamClient({
    baseUrl: simulator ? simulator.baseUrl : config.upstream.kind === 'remote' ? config.upstream.baseUrl : '',
    // A key of no meaning for the simulator, long enough that redacting it from
    // upstream messages never blanks an ordinary word such as "simulator".
    apiKey: config.upstream.kind === 'remote' ? config.upstream.apiKey : `th-sim-${randomBytes(16).toString('hex')}`,
    firstByteTimeoutMs: config.upstreamTimeouts.firstByteMs,
    idleTimeoutMs: config.upstreamTimeouts.idleMs,
  });
  const realtime = await openRealtime(config, logger);
  const metrics = new Metrics();
  const tracing = openTracing(config.tracing, { spanProcessor: options.spanProcessor, logger });
  const domain = await openDomain({
    db: database.db,
    adminToken,
    apiKeyPepper: config.apiKeyPepper,
    upstream,
    upstreamRetry: config.upstreamRetry,
    upstreamBreaker: config.upstreamBreaker,
    events: realtime.events,
    control: realtime.control,
    rateLimiter: realtime.rateLimiter,
    balances: realtime.balances,
    observer: metrics,
    tracer: tracing ? completionSpans(tracing) : noCompletionTracer,
    instanceTimeoutMs: realtime.shared ? config.instanceTimeoutMs : undefined,
    limits: config.limits,
    logger,
  });
  const readiness = [{ name: 'database', check: () => database.ping() }];
  if (realtime.shared) readiness.push({ name: 'redis', check: () => realtime.ping() });

  const trustedDocuments = config.trustedDocuments === 'playground' ? new TrustedDocuments(await playgroundOperations()) : undefined;
  const yoga = createGraphQLServer(buildSchema(), {
    domain,
    config,
    logger,
    activeSubscriptions: metrics.activeSubscriptions,
    operations: metrics,
    trustedDocuments,
    tracingPlugin: tracing && useOperationSpans(tracing),
  });
  const routes = [
    opsRoutes({ metrics, readiness, logger }),
    // Before the OpenAI face: both live under /v1 (see anthropic-router.ts for which requests are whose).
    anthropicRoutes({ domain, maxRequestBytes: config.maxCompletionRequestBytes, logger }),
    openAIRoutes({ domain, maxRequestBytes: config.maxCompletionRequestBytes, logger }),
    await createPlayground(logger, () => bundlePlayground({ byHash: trustedDocuments !== undefined })),
  ];
  const handler = withRequestLog(logger, opsPaths, withRequestMetrics(metrics, withCors(config.corsOrigins, routeRequests(routes, (req, res) => void yoga(req, res)))));
  // Outermost, so that everything a request runs is inside its span.
  const httpServer: Server = createServer(tracing ? withRequestSpans(tracing, handler) : handler);
  // Longer than the usual load balancer idle timeout (60 s), so the server
  // never closes a keep-alive socket a client is about to reuse.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const sockets = new Set<Socket>();
  httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const websocket = attachWebSocket(httpServer, yoga, {
    maxMessageBytes: config.maxRequestBytes,
    limits: config.websocket,
    signsIn: async (authorization) => (await domain.authenticator.authenticate(authorization)).kind !== 'anonymous',
    trustedDocuments,
  });

  return {
    domain,
    adminToken,
    start: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          const { port } = httpServer.address() as AddressInfo;
          const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
          resolve(`http://${host}:${port}`);
        });
      }),
    stop: async () => {
      // Graceful stop: take no new connections or completions, let running
      // completions finish (up to the deadline, then cancel and settle them),
      // give subscribers a moment to receive their last events, then close.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await domain.stop(config.shutdownDeadlineMs);
      await new Promise((resolve) => setTimeout(resolve, SUBSCRIBER_FLUSH_MS));
      await realtime.close();
      await websocket.close();
      for (const socket of sockets) socket.destroy();
      await closed;
      // After the completions settled: their last spans are exported too. A
      // collector that is down costs those spans, never the rest of the stop.
      await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not export the last spans at shutdown; they are dropped'));
      await simulator?.close();
      await database.close();
    },
  };
}
