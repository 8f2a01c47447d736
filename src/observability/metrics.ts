import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerChange } from '../domain/completions/circuit-breaker.js';
import type { Completion, Settlement } from '../domain/completions/completion-record.js';
import type { CompletionObserver } from '../domain/completions/completion-observer.js';
import type { UpstreamErrorKind } from '../domain/completions/upstream.js';
import { UNITS_PER_CREDIT } from '../domain/money.js';

/** Distinct operation names that get a label of their own; later ones are counted as `other`. */
const MAX_OPERATION_NAMES = 200;

/**
 * Operation names are chosen by clients, so that each would otherwise be a
 * series of its own, without bound. The first MAX_OPERATION_NAMES names an
 * instance sees keep theirs (the playground's and a deployment's own
 * clients come first in practice); an anonymous operation is `anonymous`.
 */
class OperationNames {
  private readonly known = new Set<string>();

  label(name: string | null): string {
    if (name === null) return 'anonymous';
    if (this.known.has(name)) return name;
    if (this.known.size >= MAX_OPERATION_NAMES || name.length > 64) return 'other';
    this.known.add(name);
    return name;
  }
}

const seconds = (from: Date, to: Date) => Math.max(0, to.getTime() - from.getTime()) / 1000;

/**
 * The Prometheus metrics of one app. Each app has its own registry (not
 * prom-client's global one), so several apps in one process, as in tests,
 * never share or collide on counters. Money here is a float of credits and
 * approximate by nature; the exact amounts live in the ledger.
 */
export class Metrics implements CompletionObserver {
  readonly registry = new Registry();

  private readonly completions = new Counter({
    name: 'tokenhub_completions_total',
    help: 'Completions settled by this instance, by final status and model.',
    labelNames: ['status', 'model'] as const,
    registers: [this.registry],
  });

  private readonly timeToFirstToken = new Histogram({
    name: 'tokenhub_completion_ttft_seconds',
    help: 'Time from startCompletion to the first output from the upstream.',
    labelNames: ['model'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: 'tokenhub_completion_duration_seconds',
    help: 'Time from startCompletion to settlement, by final status and model.',
    labelNames: ['status', 'model'] as const,
    buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320],
    registers: [this.registry],
  });

  private readonly tokens = new Counter({
    name: 'tokenhub_tokens_total',
    help: 'Tokens of settled completions (upstream usage, or the documented estimate).',
    labelNames: ['kind', 'model'] as const,
    registers: [this.registry],
  });

  private readonly creditsCharged = new Counter({
    name: 'tokenhub_credits_charged_total',
    help: 'Credits charged for completions (approximate; the ledger is exact).',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  private readonly upstreamErrors = new Counter({
    name: 'tokenhub_upstream_errors_total',
    help: 'Completions failed by the upstream, by kind (http, rate_limited, network, malformed, timeout).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** Calls made again after one failed before any output (the same model after a wait, or its fallback). */
  private readonly upstreamRetries = new Counter({
    name: 'tokenhub_upstream_retries_total',
    help: 'Upstream calls that failed before any output and were followed by another call, by model, kind and where the next went (retry, fallback).',
    labelNames: ['model', 'kind', 'next'] as const,
    registers: [this.registry],
  });

  private readonly breakersOpen = new Gauge({
    name: 'tokenhub_upstream_breaker_open',
    help: '1 while the circuit breaker of an upstream model is open or half-open on this instance, else 0.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  /** Open GraphQL subscriptions, over SSE and WebSocket. */
  readonly activeSubscriptions = new Gauge({
    name: 'tokenhub_active_subscriptions',
    help: 'GraphQL subscriptions open right now (SSE and WebSocket).',
    registers: [this.registry],
  });

  private readonly httpRequests = new Histogram({
    name: 'tokenhub_http_request_duration_seconds',
    help: 'HTTP requests by route template (never the raw path), method and status, until the response ended or the client left: streams last as long as they stream.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  private readonly graphqlOperations = new Histogram({
    name: 'tokenhub_graphql_operation_duration_seconds',
    help: 'GraphQL operations executed (a subscription until its stream is set up), by operation name, type and outcome (ok, error).',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly operationNames = new OperationNames();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  settled(completion: Completion, settlement: Settlement): void {
    const model = completion.modelId;
    const { status } = settlement;
    this.completions.inc({ status, model });
    this.duration.observe({ status, model }, seconds(completion.createdAt, settlement.finishedAt));
    if (settlement.firstTokenAt) this.timeToFirstToken.observe({ model }, seconds(completion.createdAt, settlement.firstTokenAt));
    if (settlement.promptTokens !== null) this.tokens.inc({ kind: 'prompt', model }, settlement.promptTokens);
    if (settlement.completionTokens !== null) this.tokens.inc({ kind: 'completion', model }, settlement.completionTokens);
    if (settlement.charge > 0n) this.creditsCharged.inc({ model }, Number(settlement.charge) / Number(UNITS_PER_CREDIT));
    const upstreamKind = status === 'FAILED' ? /^UPSTREAM_(.+)$/.exec(settlement.errorCode ?? '')?.[1] : undefined;
    if (upstreamKind) this.upstreamErrors.inc({ kind: upstreamKind.toLowerCase() });
  }

  upstreamRetried(model: string, kind: UpstreamErrorKind, next: 'retry' | 'fallback'): void {
    this.upstreamRetries.inc({ model, kind, next });
  }

  breakerChanged(upstreamModel: string, change: BreakerChange): void {
    this.breakersOpen.set({ model: upstreamModel }, change === 'opened' ? 1 : 0);
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.httpRequests.observe({ route, method, status: String(status) }, seconds);
  }

  observeOperation(name: string | null, type: string, outcome: 'ok' | 'error', seconds: number): void {
    this.graphqlOperations.observe({ operation: this.operationNames.label(name), type, outcome }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
