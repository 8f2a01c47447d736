import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Config } from './config.js';
import { openDatabase, type DatabaseOptions } from './db/database.js';
import { ApiKeyHasher, loadPepper } from './domain/api-keys.js';
import { seedCatalogue } from './domain/catalogue.js';
import { Authenticator } from './domain/viewer.js';
import { buildSchema } from './graphql/schema.js';
import { attachWebSocket } from './graphql/websocket.js';
import { createGraphQLServer } from './graphql/yoga.js';
import { createLogger, type Logger } from './logger.js';
import type { Services } from './services.js';

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
  const services: Services = { config, db, hasher, authenticator, logger };

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
      await websocket.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      await database.close();
    },
  };
}
