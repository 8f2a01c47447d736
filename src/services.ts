import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { ApiKeyHasher } from './domain/api-keys.js';
import type { CompletionService } from './domain/completions.js';
import type { Authenticator } from './domain/viewer.js';
import type { Logger } from './logger.js';

/** What resolvers and transports reach through their context: built once by buildApp. */
export interface Services {
  config: Config;
  db: Database;
  hasher: ApiKeyHasher;
  authenticator: Authenticator;
  logger: Logger;
  completions: CompletionService;
}
