import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Config } from './config.js';
import { openDatabase, type DatabaseOptions } from './db/database.js';
import { ApiKeyHasher, loadPepper } from './domain/api-keys.js';
import { seedCatalogue } from './domain/catalogue.js';
import { CompletionService } from './domain/completions.js';
import { InstanceRegistration } from './domain/instances.js';
import { Authenticator } from './domain/viewer.js';
import { buildSchema } from './graphql/schema.js';
import { attachWebSocket } from './graphql/websocket.js';
import { createGraphQLServer } from './graphql/yoga.js';
import { createLogger, type Logger } from './logger.js';
import { InProcessEventLog } from './realtime/in-process-event-log.js';
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

export interface AppOptions extends DatabaseOptions {
  logger?: Logger;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config);
  const database = await openDatabase(config.database, options);
  const { db } = database;
  await seedCatalogue(db);
  const hasher = new ApiKeyHasher(await loadPepper(db, config.apiKeyPepper));
  const adminToken = config.adminToken ?? `admin-${randomBytes(24).toString('base64url')}`;
  const authenticator = new Authenticator(db, hasher, adminToken, (error) =>
    logger.warn({ err: error }, 'could not record API key use'),
  );

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
  const instance = new InstanceRegistration(db, randomUUID(), config.redisUrl !== undefined, (error) =>
    logger.warn({ err: error }, 'instance heartbeat failed'),
  );
  const interrupted = await instance.start();
  if (interrupted > 0) logger.warn({ interrupted }, 'completions left running by a stopped process were interrupted and released');
  const events = new InProcessEventLog(config.eventRetentionMs);
  const completions = new CompletionService(db, upstream, events, instance.id, logger);
  const services: Services = { config, db, hasher, authenticator, logger, completions };

  const yoga = createGraphQLServer(buildSchema(), services);
  const httpServer: Server = createServer(yoga);
  const sockets = new Set<Socket>();
  httpServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const websocket = attachWebSocket(httpServer, yoga);

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
      await completions.stop(config.shutdownDeadlineMs);
      await events.close();
      await websocket.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await simulator?.close();
      await instance.stop();
      await database.close();
    },
  };
}
