import type { IncomingMessage } from 'node:http';
import { pathOf } from './request-path.js';

// What a request asked for, as a bounded name for span names and metric
// labels. Never the raw path: model ids and whatever a caller makes up
// would make one series (and one span name) per value.

const routes: ReadonlySet<string> = new Set([
  '/graphql',
  '/v1/chat/completions',
  '/v1/messages',
  '/v1/messages/count_tokens',
  '/v1/models',
  '/health',
  '/ready',
  '/metrics',
  '/',
]);

const methods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route template a request's path falls under; `unmatched` for any path no route serves by name. */
export function routeTemplateOf(req: IncomingMessage): string {
  const path = pathOf(req);
  if (routes.has(path)) return path;
  if (path.startsWith('/v1/models/')) return '/v1/models/{model}';
  // The playground's assets: one file each at the top, with hashed names.
  if (/^\/[\w.-]+\.\w+$/.test(path)) return '/{asset}';
  return 'unmatched';
}

/** The request's method when it is a standard one, else `_OTHER` (as the HTTP semantic conventions name it). */
export const methodOf = (req: IncomingMessage): string => (req.method && methods.has(req.method) ? req.method : '_OTHER');
