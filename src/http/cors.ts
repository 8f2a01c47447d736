import type { IncomingMessage, RequestListener } from 'node:http';

/** Browser origins that may call the APIs: none (no CORS headers at all), any (`*`), or exactly these. */
export type CorsOrigins = '*' | readonly string[];

// The paths a page on another origin may call, and the methods each takes:
// PUT and DELETE are graphql-sse's single-connection mode (a reservation, a
// completed operation).
const corsPaths: readonly { matches: (path: string) => boolean; methods: string }[] = [
  { matches: (path) => path === '/graphql', methods: 'GET, POST, PUT, DELETE' },
  { matches: (path) => path === '/v1' || path.startsWith('/v1/'), methods: 'GET, POST' },
];

// What the clients of the three faces send: credentials (a bearer token or
// Anthropic's x-api-key, never cookies), the faces' own headers, the CSRF
// headers of GraphQL, the single-connection SSE token, and the browser flag
// of Anthropic's SDK. The OpenAI and Anthropic SDKs also send telemetry
// headers (x-stainless-os, -retry-count, …) whose set changes between
// releases: a preflight gets back the ones it asks for.
const allowedHeaders = [
  'authorization',
  'content-type',
  'accept',
  'x-api-key',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'idempotency-key',
  'x-request-id',
  'x-graphql-yoga-csrf',
  'graphql-require-preflight',
  'x-graphql-event-stream-token',
  'openai-organization',
  'openai-project',
];
const sdkTelemetryHeader = /^x-stainless-[a-z0-9-]+$/;

// Response headers a page's script may read: ids, limits and retry advice.
const exposedHeaders = [
  'x-request-id',
  'request-id',
  'x-completion-id',
  'x-tokenhub-max-tokens',
  'retry-after',
  'x-should-retry',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'anthropic-ratelimit-requests-limit',
  'anthropic-ratelimit-requests-remaining',
  'anthropic-ratelimit-requests-reset',
].join(', ');

// How long a browser may reuse a preflight: two hours is the most Chromium
// keeps one (Firefox keeps a day).
const PREFLIGHT_MAX_AGE_SECONDS = 7200;

function headersAsked(req: IncomingMessage): string {
  const asked = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => sdkTelemetryHeader.test(name) && name.length <= 64);
  return [...allowedHeaders, ...new Set(asked)].join(', ');
}

/**
 * Cross-origin access to /graphql and /v1, the same for every face, in
 * front of all of them: a preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered here, 204 with what the
 * request may carry for an allowed origin, 403 without any CORS header
 * for another; every other answer on those paths to an allowed origin
 * carries Access-Control-Allow-Origin and the readable headers. Never
 * Access-Control-Allow-Credentials: the gateway authenticates with bearer
 * tokens and keys that a page sends itself, never with cookies, so a
 * browser has no credential of its own to attach (and `*` is then safe).
 */
export function withCors(origins: CorsOrigins, handler: RequestListener): RequestListener {
  const listed = origins === '*' ? undefined : new Set(origins);
  const allows = (origin: string) => listed === undefined || listed.has(origin);
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] as string;
    const scope = corsPaths.find((candidate) => candidate.matches(path));
    if (!scope) return handler(req, res);
    // A listed origin gets its own name back, so caches must key on it.
    if (listed && listed.size > 0) res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    const allowed = origin !== undefined && allows(origin);
    if (req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined) {
      if (!allowed) {
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${origin} may not call ${path} from a browser: it is not in the gateway's CORS_ORIGINS\n`);
        return;
      }
      res.writeHead(204, {
        'access-control-allow-origin': listed ? origin : '*',
        'access-control-allow-methods': scope.methods,
        'access-control-allow-headers': headersAsked(req),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
        // The allowed headers echo the telemetry ones asked for.
        vary: listed ? 'Origin, Access-Control-Request-Headers' : 'Access-Control-Request-Headers',
      });
      res.end();
      return;
    }
    if (allowed) {
      res.setHeader('access-control-allow-origin', listed ? origin : '*');
      res.setHeader('access-control-expose-headers', exposedHeaders);
    }
    handler(req, res);
  };
}
