import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { ApiKeyHasher } from './domain/api-keys.js';
import type { CatalogueCache } from './domain/catalogue.js';
import type { CompletionService } from './domain/completions.js';
import type { Authenticator } from './domain/viewer.js';
import type { Logger } from './logger.js';
import type { BalanceChanges } from './realtime/balance-changes.js';
import type { Metrics } from './observability/metrics.js';
import type { ReadinessCheck } from './observability/readiness.js';

/** What resolvers and transports reach through their context: built once by buildApp. */
export interface Services {
  config: Config;
  db: Database;
  hasher: ApiKeyHasher;
  authenticator: Authenticator;
  catalogue: CatalogueCache;
  logger: Logger;
  completions: CompletionService;
  balanceChanges: BalanceChanges;
  metrics: Metrics;
  /** What `/ready` checks; whoever opens a dependency (database, Redis) adds its check here. */
  readiness: ReadinessCheck[];
}
