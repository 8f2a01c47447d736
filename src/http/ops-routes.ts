import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { checkReadiness, type ReadinessCheck } from '../observability/readiness.js';
import { sendJson } from './json.js';
import type { Route } from './router.js';

/** The paths served here: probes and scrapes, which the request log keeps at debug level. */
export const opsPaths: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

// A probe that waits longer than this for a dependency counts it as down.
const READINESS_TIMEOUT_MS = 2000;

// Probes must never see a cached answer.
const noStore = { 'cache-control': 'no-store' };

/**
 * Operations endpoints, at node:http level so they answer even when GraphQL
 * cannot: `/health` (the process serves: liveness), `/ready` (every
 * readiness check passes, else 503 naming the failed ones) and `/metrics`
 * (Prometheus text). Returns false for any other request.
 */
export function opsRoutes({ metrics, readiness, logger }: { metrics: Metrics; readiness: readonly ReadinessCheck[]; logger: Logger }): Route {
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (!opsPaths.has(path) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    if (path === '/health') {
      sendJson(res, 200, { status: 'ok' }, noStore);
      return true;
    }
    const answer =
      path === '/ready'
        ? checkReadiness(readiness, READINESS_TIMEOUT_MS).then(({ ready, checks }) => {
            if (!ready) logger.warn({ checks }, 'not ready');
            sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks }, noStore);
          })
        : metrics.text().then((text) => {
            res.writeHead(200, { ...noStore, 'content-type': metrics.contentType });
            res.end(text);
          });
    answer.catch((error: unknown) => {
      logger.error({ err: error, path }, 'operations endpoint failed');
      if (!res.headersSent) sendJson(res, 500, { status: 'error' }, noStore);
      else res.destroy();
    });
    return true;
  };
}
