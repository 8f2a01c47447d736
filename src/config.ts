import { z } from 'zod';

// The only module that reads the environment. Everything else receives a
// Config, which is also how tests build servers with their own settings.

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

/**
 * CORS_ORIGINS: exact origins (scheme://host[:port]), comma-separated, or a
 * lone `*`. Written as origins, not patterns: a browser sends its origin
 * serialised, so one string comparison decides.
 */
const corsOrigins = z.string().transform((value, ctx): '*' | string[] => {
  const listed = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (listed.includes('*')) {
    if (listed.length > 1) ctx.addIssue({ code: 'custom', message: '* allows every origin and cannot be combined with others' });
    return '*';
  }
  return listed.map((origin) => {
    const url = URL.parse(origin);
    if (!url || url.origin === 'null' || url.username || url.password || url.pathname !== '/' || url.search || url.hash || /\/$/.test(origin)) {
      ctx.addIssue({ code: 'custom', message: `${origin} is not an origin; write scheme://host[:port], without a path` });
      return origin;
    }
    return url.origin;
  });
});

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .refine((v) => /^(postgres(ql)?|memory|file):\/\//.test(v) || !v.includes('://'), {
      message: 'use postgres://…, memory:// or a PGlite data directory',
    })
    .default('./.data/pglite'),
  // Postgres cancels a statement running longer (SQLSTATE 57014); migrations are exempt.
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(30_000),
  UPSTREAM_BASE_URL: z.url().default('https://tokenhub.store/api/v1'),
  UPSTREAM_API_KEY: z.string().min(1).optional(),
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: positiveInt.default(60_000),
  UPSTREAM_IDLE_TIMEOUT_MS: positiveInt.default(30_000),
  // Calls per model for a completion whose calls fail before any output (429, 5xx, connection), the first included;
  // no wait may end later than UPSTREAM_RETRY_BUDGET_MS after the first call.
  UPSTREAM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  UPSTREAM_RETRY_BUDGET_MS: z.coerce.number().int().min(0).default(20_000),
  // Consecutive such failures of one upstream model that open its circuit breaker, and how long it stays open.
  UPSTREAM_BREAKER_THRESHOLD: positiveInt.default(5),
  UPSTREAM_BREAKER_COOLDOWN_MS: positiveInt.default(30_000),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  API_KEY_PEPPER: z.string().min(16, 'API_KEY_PEPPER must be at least 16 characters').optional(),
  // Browser origins that may call /v1 and /graphql (README, "Cross-origin requests").
  CORS_ORIGINS: corsOrigins.default([]),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'use redis://… or rediss://…').optional(),
  // Also names the Redis connections (CLIENT SETNAME), hence no spaces.
  REDIS_KEY_PREFIX: z.string().regex(/^[\w:.-]*$/, 'use letters, digits and _ : . - only').default('tokenhub:'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHIQL: boolean.optional(),
  // Persisted operations (README, "Trusted documents"): off, or the playground's operations by hash.
  TRUSTED_DOCUMENTS: z.enum(['off', 'playground']).default('off'),
  INTROSPECTION: boolean.optional(),
  SIMULATOR_TTFT_MS: z.coerce.number().int().min(0).default(300),
  SIMULATOR_INTER_TOKEN_MS: z.coerce.number().int().min(0).default(40),
  SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(0).default(10_000),
  EVENT_RETENTION_MS: z.coerce.number().int().min(0).default(60_000),
  INSTANCE_TIMEOUT_MS: z.coerce.number().int().min(300).default(30_000),
  // Query protection (see src/plugins/armor.ts) and the largest HTTP body or WebSocket message.
  MAX_REQUEST_BYTES: positiveInt.default(1024 * 1024),
  // Room for a long Claude Code session with screenshots. Not Anthropic's
  // 32 MB: reading, checking and storing a body holds the event loop, about
  // 77 ms at 8 MiB and 333 ms at 32 (`npm run bench:large-bodies`), which
  // every other account would wait out.
  MAX_COMPLETION_REQUEST_BYTES: positiveInt.default(8 * 1024 * 1024),
  QUERY_MAX_DEPTH: positiveInt.default(12),
  QUERY_MAX_ALIASES: z.coerce.number().int().min(0).default(15),
  QUERY_MAX_TOKENS: positiveInt.default(2000),
  QUERY_MAX_COST: positiveInt.default(5000),
  QUERY_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(10),
  // Bounds that keep one key from hurting other accounts (README, "Limits").
  MAX_KEYS_PER_ACCOUNT: positiveInt.default(100),
  // A completion is cut when it runs longer (64,000 tokens at 60 a second take 18 minutes).
  MAX_COMPLETION_DURATION_MS: positiveInt.default(30 * 60_000),
  // How long past that a settlement may be retried before the sweep ends the completion, and how often it sweeps.
  SETTLEMENT_GRACE_MS: positiveInt.default(5 * 60_000),
  SWEEP_INTERVAL_MS: positiveInt.default(10_000),
  // How often each instance checks that the keys holding streams open are still live (revocation, expiry).
  KEY_CHECK_INTERVAL_MS: positiveInt.default(2_000),
  // Streams (subscriptions and REST streams) one key may hold open on one instance.
  MAX_STREAMS_PER_KEY: positiveInt.default(500),
  // graphql-ws: subscriptions per connection; how long a connection may go without connection_init,
  // and then without any subscription, before it is closed; connections without credentials per instance.
  WS_MAX_SUBSCRIPTIONS: positiveInt.default(100),
  WS_CONNECTION_INIT_TIMEOUT_MS: positiveInt.default(5_000),
  WS_IDLE_TIMEOUT_MS: positiveInt.default(60_000),
  WS_MAX_ANONYMOUS_CONNECTIONS: positiveInt.default(200),
  // Traces (README, "Tracing"): off unless an OTLP endpoint is set. The exporter reads its other
  // standard variables (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, certificates) itself.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().default('tokenhub-gateway'),
  OTEL_TRACES_SAMPLER: z.enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
});

/** Every variable the configuration reads (.env.example and compose.yaml are checked against it). */
export const environmentVariables: readonly string[] = Object.keys(environmentSchema.shape);

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** statementTimeoutMs: none when left out. */
  database: { kind: 'postgres'; url: string; statementTimeoutMs?: number } | { kind: 'pglite'; dataDir: string | undefined };
  upstream:
    | { kind: 'remote'; baseUrl: string; apiKey: string }
    | { kind: 'simulator'; ttftMs: number; interTokenMs: number };
  upstreamTimeouts: { firstByteMs: number; idleMs: number };
  /** Retries of calls that fail before any output: calls per model, and the time all waits must end within. */
  upstreamRetry: { maxAttempts: number; budgetMs: number };
  /** Consecutive failures of one upstream model that open its circuit breaker, and its cool-down. */
  upstreamBreaker: { threshold: number; cooldownMs: number };
  /** undefined: generate one at start and print it once. */
  adminToken: string | undefined;
  /** undefined: generate one and keep it in the database. */
  apiKeyPepper: string | undefined;
  /** Browser origins that may call /v1 and /graphql: none (no CORS headers), any, or these exactly. */
  corsOrigins: '*' | readonly string[];
  redisUrl: string | undefined;
  /** Prepended to every Redis key and channel, so deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  graphiql: boolean;
  introspection: boolean;
  /** Whether the playground sends its operations by hash (other clients send any document either way). */
  trustedDocuments: 'off' | 'playground';
  shutdownDeadlineMs: number;
  /** How long a finished completion's events stay in memory before replays read Postgres. */
  eventRetentionMs: number;
  /** With Redis: how long an instance may miss heartbeats before others settle its completions as INTERRUPTED. */
  instanceTimeoutMs: number;
  /** Largest GraphQL request body (HTTP) or message (WebSocket), in bytes. */
  maxRequestBytes: number;
  /** Largest body of the REST completion endpoints (/v1/chat/completions, /v1/messages), read only for a signed-in key. */
  maxCompletionRequestBytes: number;
  queryLimits: QueryLimits;
  /** What the domain bounds: keys and streams held, how long completions and their settlements may take. */
  limits: Limits;
  websocket: WebSocketLimits;
  tracing: TracingConfig;
}

/** OpenTelemetry traces: exported over OTLP (HTTP, protobuf) when an endpoint is set, else off. */
export interface TracingConfig {
  /** The OTLP base URL (traces go to its /v1/traces); undefined: tracing off. */
  otlpEndpoint: string | undefined;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER's values; the ratio is OTEL_TRACES_SAMPLER_ARG's, used by the traceidratio ones. */
  sampler: z.infer<typeof environmentSchema>['OTEL_TRACES_SAMPLER'];
  samplerRatio: number;
}

/** What one graphql-ws connection may hold, and for how long it may hold nothing. */
/**
 * The bounds the domain holds every caller to (README, "Limits and why"):
 * what one account or key may hold, and how long a completion, its
 * settlement and a key row read from Postgres may last. Read here from
 * the environment; the domain is their only consumer.
 */
export interface Limits {
  /** Live (unrevoked, unexpired) API keys an account may hold. */
  maxKeysPerAccount: number;
  /** Streams (subscriptions, REST streams) a key may hold open on this instance. */
  maxStreamsPerKey: number;
  /** The longest a completion may run before it is cut as if for length. */
  maxCompletionDurationMs: number;
  /** How long past that its settlement may take before the overdue sweep ends it. */
  settlementGraceMs: number;
  /** How often each instance sweeps for completions that must end (and beats, with Redis). */
  sweepIntervalMs: number;
  /**
   * How often each instance checks that the keys holding streams are still
   * live, and how long it trusts a key it read (a change made on another
   * instance is seen within this).
   */
  keyCheckIntervalMs: number;
}

export interface WebSocketLimits {
  /** Subscriptions open at once on one connection. */
  maxSubscriptions: number;
  /** From the upgrade to connection_init. */
  connectionInitTimeoutMs: number;
  /** How long a connection without any subscription is kept. */
  idleTimeoutMs: number;
  /** Connections not (yet) signed in with a key or the admin token, on this instance. */
  maxAnonymousConnections: number;
}

/** Per-operation limits on a GraphQL document, the same over HTTP, SSE and WebSocket. */
export interface QueryLimits {
  depth: number;
  aliases: number;
  tokens: number;
  cost: number;
  directives: number;
}

export class ConfigError extends Error {}

export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(environment).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const development = e.NODE_ENV !== 'production';
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    database: databaseOf(e.DATABASE_URL, e.DATABASE_STATEMENT_TIMEOUT_MS),
    upstream: e.UPSTREAM_API_KEY
      ? { kind: 'remote', baseUrl: e.UPSTREAM_BASE_URL, apiKey: e.UPSTREAM_API_KEY }
      : { kind: 'simulator', ttftMs: e.SIMULATOR_TTFT_MS, interTokenMs: e.SIMULATOR_INTER_TOKEN_MS },
    upstreamTimeouts: { firstByteMs: e.UPSTREAM_FIRST_BYTE_TIMEOUT_MS, idleMs: e.UPSTREAM_IDLE_TIMEOUT_MS },
    upstreamRetry: { maxAttempts: e.UPSTREAM_MAX_ATTEMPTS, budgetMs: e.UPSTREAM_RETRY_BUDGET_MS },
    upstreamBreaker: { threshold: e.UPSTREAM_BREAKER_THRESHOLD, cooldownMs: e.UPSTREAM_BREAKER_COOLDOWN_MS },
    adminToken: e.ADMIN_TOKEN,
    apiKeyPepper: e.API_KEY_PEPPER,
    corsOrigins: e.CORS_ORIGINS,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    logLevel: e.LOG_LEVEL,
    graphiql: e.GRAPHIQL ?? development,
    introspection: e.INTROSPECTION ?? development,
    trustedDocuments: e.TRUSTED_DOCUMENTS,
    shutdownDeadlineMs: e.SHUTDOWN_DEADLINE_MS,
    eventRetentionMs: e.EVENT_RETENTION_MS,
    instanceTimeoutMs: e.INSTANCE_TIMEOUT_MS,
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    maxCompletionRequestBytes: e.MAX_COMPLETION_REQUEST_BYTES,
    queryLimits: {
      depth: e.QUERY_MAX_DEPTH,
      aliases: e.QUERY_MAX_ALIASES,
      tokens: e.QUERY_MAX_TOKENS,
      cost: e.QUERY_MAX_COST,
      directives: e.QUERY_MAX_DIRECTIVES,
    },
    limits: {
      maxKeysPerAccount: e.MAX_KEYS_PER_ACCOUNT,
      maxStreamsPerKey: e.MAX_STREAMS_PER_KEY,
      maxCompletionDurationMs: e.MAX_COMPLETION_DURATION_MS,
      settlementGraceMs: e.SETTLEMENT_GRACE_MS,
      sweepIntervalMs: e.SWEEP_INTERVAL_MS,
      keyCheckIntervalMs: e.KEY_CHECK_INTERVAL_MS,
    },
    websocket: {
      maxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
      connectionInitTimeoutMs: e.WS_CONNECTION_INIT_TIMEOUT_MS,
      idleTimeoutMs: e.WS_IDLE_TIMEOUT_MS,
      maxAnonymousConnections: e.WS_MAX_ANONYMOUS_CONNECTIONS,
    },
    tracing: {
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: e.OTEL_SERVICE_NAME,
      sampler: e.OTEL_TRACES_SAMPLER,
      samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    },
  };
}

function databaseOf(url: string, statementTimeoutMs: number): Config['database'] {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, statementTimeoutMs };
  if (url === 'memory://') return { kind: 'pglite', dataDir: undefined };
  return { kind: 'pglite', dataDir: url.replace(/^file:\/\//, '') };
}
