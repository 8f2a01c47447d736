import { defaultTextMapGetter, ROOT_CONTEXT, trace, type Context, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { IncomingHttpHeaders } from 'node:http';
import type { TracingConfig } from '../config.js';
import type { Logger } from '../logger.js';

// One tracer provider per app, registered nowhere global: several apps in
// one process (the tests) each keep their own spans, and nothing outside
// the app (a dependency's own instrumentation) starts spans in its traces.
// For the same reason the context (which span is current) lives in a
// context manager of the app's own, not the API's global one.

/** The tracing of one app; there is none when tracing is off. */
export interface Tracing {
  readonly tracer: Tracer;
  /** The context current in this asynchronous flow: the request's or the operation's span. */
  active(): Context;
  /** Runs `fn` with `context` current, for it and everything it awaits or schedules. */
  with<T>(context: Context, fn: () => T): T;
  /** The caller's trace, from its W3C `traceparent` header; the root context when it sent none (or a bad one). */
  callerContext(headers: IncomingHttpHeaders): Context;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go instead of (not as well as) the OTLP exporter, turning tracing on: tests' in-memory exporter. */
  spanProcessor?: SpanProcessor;
  logger: Logger;
}

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** The OTLP signal path is appended to the base URL, as the OTEL_EXPORTER_OTLP_ENDPOINT specification says. */
const tracesUrlOf = (endpoint: string) => new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).href;

/**
 * An exporter that says when a batch could not be sent: the SDK drops it
 * silently otherwise. Only the error's message is logged, never the spans.
 */
function reportingFailures(exporter: SpanExporter, logger: Logger): SpanExporter {
  return {
    export: (spans, done) =>
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) logger.warn({ error: result.error?.message, spans: spans.length }, 'could not export spans over OTLP; they are dropped');
        done(result);
      }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The app's tracing, or undefined when it is off (no OTLP endpoint and no processor given): then nothing is built at all. */
export function openTracing(config: TracingConfig, { spanProcessor, logger }: TracingOptions): Tracing | undefined {
  if (!spanProcessor && config.otlpEndpoint === undefined) return undefined;
  const processor = spanProcessor ?? new BatchSpanProcessor({ exporter: reportingFailures(new OTLPTraceExporter({ url: tracesUrlOf(config.otlpEndpoint!) }), logger) });
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName })),
    sampler: samplerOf(config),
    spanProcessors: [processor],
  });
  if (!spanProcessor) logger.info({ endpoint: new URL(config.otlpEndpoint!).origin, sampler: config.sampler }, 'traces are exported over OTLP');
  const contexts = new AsyncLocalStorageContextManager().enable();
  const propagator = new W3CTraceContextPropagator();
  return {
    tracer: provider.getTracer('tokenhub-gateway'),
    active: () => contexts.active(),
    with: (context, fn) => contexts.with(context, fn),
    callerContext: (headers) => {
      // The caller's trace and parent span, not its tracestate: vendor data
      // a client sends is not ours to export under the gateway's spans.
      const parent = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
      return parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, traceState: undefined }) : ROOT_CONTEXT;
    },
    shutdown: async () => {
      await provider.shutdown();
      contexts.disable();
    },
  };
}
