import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Logger } from '../logger.js';

const operationNames = new WeakMap<IncomingMessage, string>();

// GraphQL names are safe characters but have no length limit.
const MAX_LOGGED_NAME = 100;

/** Tells the request log which GraphQL operation a request ran (see useOperationNameLog). */
export function noteOperation(req: IncomingMessage, name: string): void {
  operationNames.set(req, name.slice(0, MAX_LOGGED_NAME));
}

// A caller's id is kept when it looks like one; anything else could forge or
// bloat log lines, so it is replaced.
const acceptableId = /^[\w.:-]{1,128}$/;

/**
 * One JSON line per HTTP request: its id (the caller's `x-request-id`, or a
 * new one, echoed in the response), method, path, status, duration and the
 * GraphQL operation it ran. Never headers, query strings or bodies: tokens
 * and keys travel there. Paths in `quietPaths` (probes, scrapes) log at debug.
 */
export function withRequestLog(logger: Logger, quietPaths: ReadonlySet<string>, handler: RequestListener): RequestListener {
  return (req, res) => {
    const started = performance.now();
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && acceptableId.test(offered) ? offered : randomUUID();
    // Yoga's context reads the id from the request: it must be the logged one.
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    // 'close' also comes when the client goes away first, as SSE clients do.
    res.once('close', () => {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
      const line = {
        requestId,
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round(performance.now() - started),
        operationName: operationNames.get(req),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (quietPaths.has(path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    handler(req, res);
  };
}
