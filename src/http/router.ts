import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers a request it owns and returns true; returns false to leave it to the next route. */
export type Route = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * One listener for the whole server: each route answers its own paths (ops:
 * /health, /ready, /metrics; a REST face: /v1/*; the playground: / and its
 * assets) and the fallback (GraphQL) takes the rest. Adding a face is adding
 * its route here.
 */
export function routeRequests(routes: readonly Route[], fallback: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (!routes.some((route) => route(req, res))) fallback(req, res);
  };
}
