import type { RequestListener } from 'node:http';
import { methodOf, routeTemplateOf } from './route-templates.js';

export interface RequestTimer {
  observeRequest(route: string, method: string, status: number, seconds: number): void;
}

/** Times every HTTP request, by route template, method and status, until its response ended or its client left. */
export function withRequestMetrics(timer: RequestTimer, handler: RequestListener): RequestListener {
  return (req, res) => {
    const started = performance.now();
    res.once('close', () => timer.observeRequest(routeTemplateOf(req), methodOf(req), res.statusCode, (performance.now() - started) / 1000));
    handler(req, res);
  };
}
