import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Config } from './config.js';
import { openDatabase, type DatabaseOptions } from './db/database.js';
import { ApiKeyHasher, loadPepper } from './domain/api-keys.js';
import { CatalogueCache, seedCatalogue } from './domain/catalogue.js';
import { InProcessRateLimiter } from './domain/rate-limit.js';
import { findCompletion } from './domain/completion-record.js';
import { CompletionService, type CompletionObserver } from './domain/completions.js';
import { InstanceRegistration } from './domain/instances.js';
import { Authenticator } from './domain/viewer.js';
import { buildSchema } from './graphql/schema.js';
import { attachWebSocket } from './graphql/websocket.js';
import { createGraphQLServer } from './graphql/yoga.js';
import { opsPaths, opsRoutes } from './http/ops-routes.js';
import { openAIRoutes } from './rest/openai-router.js';
import { createPlayground } from './http/playground.js';
import { withRequestLog } from './http/request-log.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './observability/metrics.js';
import { localCompletionControl } from './realtime/completion-control.js';
import { BalanceChanges } from './realtime/balance-changes.js';
import { InProcessEventLog } from './realtime/in-process-event-log.js';
import { connectRedis } from './realtime/redis-client.js';
import { RedisRateLimiter } from './realtime/redis-rate-limiter.js';
import { RedisCompletionControl } from './realtime/redis-completion-control.js';
import { RedisEventLog } from './realtime/redis-event-log.js';
import type { Services } from './services.js';
import { createUpstreamClient } from './upstream/client.js';
import { startSimulator, type Simulator } from './upstream/simulator.js';

export interface App {
  services: Services;
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
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const database = await openDatabase(config.database, {
    onPoolError: (error) => logger.warn({ err: error }, 'a Postgres connection failed while idle; the pool replaces it'),
    ...options,
  });
  const { db } = database;
  await seedCatalogue(db);
  const hasher = new ApiKeyHasher(await loadPepper(db, config.apiKeyPepper));
  const adminToken = config.adminToken ?? `admin-${randomBytes(24).toString('base64url')}`;

  // Without an upstream key the built-in simulator serves completions, over
  // real HTTP, so the same client code runs as in production.
  let simulator: Simulator | undefined;
  if (config.upstream.kind === 'simulator') {
    simulator = await startSimulator({ ttftMs: config.upstream.ttftMs, interTokenMs: config.upstream.interTokenMs });
  }
  const upstream = createUpstreamClient({
    baseUrl: simulator ? simulator.baseUrl : config.upstream.kind === 'remote' ? config.upstream.baseUrl : '',
    apiKey: config.upstream.kind === 'remote' ? config.upstream.apiKey : 'simulator',
    firstByteTimeoutMs: config.upstreamTimeouts.firstByteMs,
    idleTimeoutMs: config.upstreamTimeouts.idleMs,
  });
  // With REDIS_URL, events and cancels go through Redis, so that any
  // instance streams and cancels completions that run on any other.
  const redis = config.redisUrl ? { url: config.redisUrl, keyPrefix: config.redisKeyPrefix, logger } : undefined;
  const events = redis ? await RedisEventLog.connect({ ...redis, retentionMs: config.eventRetentionMs }) : new InProcessEventLog(config.eventRetentionMs);
  const control = redis ? await RedisCompletionControl.connect(redis) : localCompletionControl;
  // Per-key request counters are shared through Redis when instances are.
  const rateLimitRedis = redis ? await connectRedis(redis.url, 'rate-limit', logger) : undefined;
  const rateLimiter = rateLimitRedis ? new RedisRateLimiter(rateLimitRedis, redis?.keyPrefix ?? '') : new InProcessRateLimiter();
  const authenticator = new Authenticator(db, hasher, adminToken, rateLimiter, (error) =>
    logger.warn({ err: error }, 'could not record API key use'),
  );
  const catalogue = new CatalogueCache(db);
  const metrics = new Metrics();
  const balanceRedis = redis
    ? {
        publish: await connectRedis(redis.url, 'balance-publish', logger),
        subscribe: await connectRedis(redis.url, 'balance-subscribe', logger),
        keyPrefix: redis.keyPrefix,
      }
    : undefined;
  const balanceChanges = new BalanceChanges(balanceRedis);
  const observer: CompletionObserver = {
    reserved: (completion) => balanceChanges.reserved(completion),
    settled: (completion, settlement) => {
      metrics.settled(completion, settlement);
      balanceChanges.settled(completion);
    },
  };
  // Completions a dead process left running are settled INTERRUPTED; their
  // event logs get a terminal event, so that waiting subscribers end too.
  const instance = new InstanceRegistration(
    db,
    randomUUID(),
    config.redisUrl === undefined ? undefined : config.instanceTimeoutMs,
    async (ids) => {
      logger.warn({ completionIds: ids }, 'completions left running by a stopped process were interrupted and released');
      // One by one: a completion whose log cannot be ended must not leave the others' subscribers waiting.
      for (const id of ids) {
        try {
          const completion = await findCompletion(db, id);
          if (!completion) continue;
          await events.end(completion);
          balanceChanges.publish(completion.accountId);
        } catch (error) {
          logger.warn({ err: error, completionId: id }, 'could not end the event stream of an interrupted completion');
        }
      }
    },
    (error) => logger.warn({ err: error }, 'instance heartbeat failed'),
  );
  await instance.start();
  const completions = new CompletionService(db, catalogue, upstream, events, instance.id, logger, observer, control);
  const readiness = [{ name: 'database', check: () => database.ping() }];
  if (redis) readiness.push({ name: 'redis', check: () => events.ping() });
  const services: Services = { config, db, hasher, authenticator, catalogue, logger, completions, balanceChanges, metrics, readiness };

  const yoga = createGraphQLServer(buildSchema(), services);
  // Each route answers its own paths and returns true (ops: /health, /ready,
  // /metrics; the OpenAI-compatible REST API: /v1/*; the playground: / and
  // its assets); yoga takes the rest.
  const routes = [opsRoutes(services), openAIRoutes(services), await createPlayground(logger)];
  const httpServer: Server = createServer(
    withRequestLog(logger, opsPaths, (req, res) => {
      if (!routes.some((route) => route(req, res))) void yoga(req, res);
    }),
  );
  // Longer than the usual load balancer idle timeout (60 s), so the server
  // never closes a keep-alive socket a client is about to reuse.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const sockets = new Set<Socket>();
  httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const websocket = attachWebSocket(httpServer, yoga, config.maxRequestBytes);

  return {
    services,
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
      await completions.stop(config.shutdownDeadlineMs);
      await new Promise((resolve) => setTimeout(resolve, SUBSCRIBER_FLUSH_MS));
      await events.close();
      await control.close();
      rateLimitRedis?.disconnect();
      balanceRedis?.publish.disconnect();
      balanceRedis?.subscribe.disconnect();
      await websocket.close();
      for (const socket of sockets) socket.destroy();
      await closed;
      await simulator?.close();
      await instance.stop();
      await database.close();
    },
  };
}
