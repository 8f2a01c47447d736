import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { Authenticator } from './access/authenticator.js';
import { KeyWatch, type ConnectionHold } from './access/key-watch.js';
import type { Viewer } from './access/viewer.js';
import type { RateLimiter } from './access/rate-limiter.js';
import { AccountService } from './accounts/account-service.js';
import type { BalanceFeed } from './accounts/balance-feed.js';
import { ApiKeyService } from './api-keys/api-key-service.js';
import { ApiKeyHasher, loadPepper } from './api-keys/key-hasher.js';
import { CatalogueCache } from './catalogue/catalogue-cache.js';
import { CatalogueService } from './catalogue/catalogue-service.js';
import { seedCatalogue } from './catalogue/seed.js';
import type { CompletionControl } from './completions/completion-control.js';
import type { CompletionObserver } from './completions/completion-observer.js';
import type { CompletionTracer } from './completions/completion-tracer.js';
import { CircuitBreakers, type BreakerOptions } from './completions/circuit-breaker.js';
import { CompletionService } from './completions/completion-service.js';
import type { CompletionEventLog } from './completions/event-log.js';
import { InstanceRegistration } from './completions/instances.js';
import { ResilientUpstream } from './completions/resilient-upstream.js';
import type { RetryPolicy } from './completions/upstream-retry.js';
import type { UpstreamClient } from './completions/upstream.js';
import { CreditService } from './credits/credit-service.js';
import type { Limits } from '../config.js';
import { UsageService } from './usage/usage-service.js';

/** What the domain needs from the app: storage, the upstream, the realtime ports, observers and the tracer. */
export interface DomainDeps {
  db: Database;
  adminToken: string;
  /** undefined: generate one and keep it in the database. */
  apiKeyPepper: string | undefined;
  upstream: UpstreamClient;
  /** How calls that fail before any output are retried. */
  upstreamRetry: RetryPolicy;
  /** When an upstream model's circuit breaker opens, and for how long. */
  upstreamBreaker: BreakerOptions;
  events: CompletionEventLog;
  control: CompletionControl;
  rateLimiter: RateLimiter;
  balances: BalanceFeed;
  observer: CompletionObserver;
  /** Where completions record their milestones: OpenTelemetry spans, or nothing. */
  tracer: CompletionTracer;
  /**
   * With state shared between instances: how long an instance may miss
   * heartbeats before others settle its completions as INTERRUPTED.
   * undefined: this is the only instance.
   */
  instanceTimeoutMs: number | undefined;
  /** What callers may hold and how long things may take. */
  limits: Limits;
  logger: Logger;
}

/**
 * The domain's entry points. Each takes the caller's Viewer, checks access
 * itself and fires its own side effects; the faces only translate.
 */
export interface Domain {
  authenticator: Authenticator;
  accounts: AccountService;
  apiKeys: ApiKeyService;
  credits: CreditService;
  catalogue: CatalogueService;
  usage: UsageService;
  completions: CompletionService;
  /** A connection that carries the viewer's streams, counted and ended like one of them (see KeyWatch). */
  holdConnection(viewer: Viewer): ConnectionHold;
  /** Graceful stop: running completions finish (up to the deadline), then this instance deregisters. */
  stop(deadlineMs: number): Promise<void>;
}

export async function openDomain(deps: DomainDeps): Promise<Domain> {
  const { db, logger, limits } = deps;
  await seedCatalogue(db);
  const hasher = new ApiKeyHasher(await loadPepper(db, deps.apiKeyPepper));
  const cache = new CatalogueCache(db);
  const instanceId = randomUUID();
  const keyWatch = new KeyWatch(db, limits.keyCheckIntervalMs, limits.maxStreamsPerKey, (error) => logger.warn({ err: error }, 'could not check the keys holding streams; the next check retries'));
  const overdueAfterMs = limits.maxCompletionDurationMs + limits.settlementGraceMs;
  const breakers = new CircuitBreakers(deps.upstreamBreaker, (upstreamModel, change) => {
    deps.observer.breakerChanged(upstreamModel, change);
    if (change === 'opened') {
      logger.warn({ upstreamModel, cooldownMs: deps.upstreamBreaker.cooldownMs }, 'an upstream model keeps failing; its circuit breaker opened and it is not called until a probe succeeds');
    } else logger.info({ upstreamModel }, 'an upstream model answered again; its circuit breaker closed');
  });
  const upstream = new ResilientUpstream(deps.upstream, breakers, deps.upstreamRetry, deps.observer);
  const completions = new CompletionService({ ...deps, upstream, catalogue: cache, instanceId, keyWatch, maxDurationMs: limits.maxCompletionDurationMs, overdueAfterMs });
  // Completions a dead process left running, or that outlived their bound,
  // are settled INTERRUPTED; their event logs get a terminal event, so that
  // waiting subscribers end too.
  const instance = new InstanceRegistration(
    db,
    instanceId,
    { sharedTimeoutMs: deps.instanceTimeoutMs, overdueAfterMs, sweepIntervalMs: limits.sweepIntervalMs },
    (ids) => completions.endInterrupted(ids),
    () => completions.abortLost(),
    (error) => logger.warn({ err: error }, 'an instance sweep failed; the next one retries'),
  );
  await instance.start();
  keyWatch.start();
  const authenticator = new Authenticator(db, hasher, deps.adminToken, limits.keyCheckIntervalMs, (error) => logger.warn({ err: error }, 'could not record API key use'));
  const keyChanged = (keyId: string, change: 'revoked' | 'updated') => {
    authenticator.forget(keyId);
    if (change === 'revoked') keyWatch.revoked(keyId);
  };
  return {
    authenticator,
    accounts: new AccountService(db, deps.balances, keyWatch, (error) => logger.warn({ err: error }, 'could not follow a balance; the next change retries')),
    apiKeys: new ApiKeyService(db, hasher, cache, limits.maxKeysPerAccount, keyChanged),
    credits: new CreditService(db, deps.balances),
    catalogue: new CatalogueService(db, cache),
    usage: new UsageService(db),
    completions,
    holdConnection: (viewer) => keyWatch.holdConnection(viewer),
    stop: async (deadlineMs) => {
      keyWatch.stop();
      await completions.stop(deadlineMs);
      // A row left behind is harmless: the next start (one instance) or the
      // heartbeat timeout (Redis) treats this instance as gone. A database
      // that fails now must not keep the process from closing.
      await instance.stop().catch((error) => logger.warn({ err: error }, 'could not remove this instance at shutdown; it expires on its own'));
    },
  };
}
