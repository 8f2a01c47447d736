import type { RequestListener } from 'node:http';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import type { Tracing } from '../observability/tracing.js';
import { methodOf, routeTemplateOf } from './route-templates.js';

/**
 * A server span per HTTP request, current while the request is handled, so
 * that what it starts (a GraphQL operation, a completion) is its child. It
 * continues the caller's trace when the request carries a W3C
 * `traceparent`. Its attributes are the method, the route template and the
 * status: never the path, query, headers or body, where ids, keys and
 * prompts travel.
 */
export function withRequestSpans(tracing: Tracing, handler: RequestListener): RequestListener {
  return (req, res) => {
    const method = methodOf(req);
    const route = routeTemplateOf(req);
    const parent = tracing.callerContext(req.headers);
    const span = tracing.tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_HTTP_ROUTE]: route } }, parent);
    // 'close' also comes when the client goes away first, as SSE clients do.
    res.once('close', () => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (!res.writableFinished) span.setAttribute('tokenhub.client_left', true);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    tracing.with(trace.setSpan(parent, span), () => handler(req, res));
  };
}
