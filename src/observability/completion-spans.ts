import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import type {
  CompletionTrace,
  CompletionTracer,
  TracedCall,
  TracedReservation,
  TracedSettlement,
  TracedStart,
  TracedStep,
} from '../domain/completions/completion-tracer.js';
import { formatMoney } from '../domain/money.js';
import type { Tracing } from './tracing.js';

// A completion's spans: "completion" in the request or operation that
// started it, with children "reservation" (one per reservation tried),
// "upstream.call" (one per call: retries and the fallback each show) and
// "settlement", and an event "first token". Attributes hold ids, models,
// counts, statuses and money: the port hands nothing else over (see
// completion-tracer.ts). Names follow the GenAI semantic conventions where
// they have one; those are still incubating, so they are written here
// rather than imported from the package's unstable entry point.

const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
const GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';

/** Settled as one of these, the completion failed: its span says so. */
const failedStatuses = new Set(['FAILED', 'INTERRUPTED']);

const failed = (span: Span, code: string) => {
  span.setAttribute(ATTR_ERROR_TYPE, code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
};

function settlementAttributes(settled: TracedSettlement): Attributes {
  const attributes: Attributes = {
    'tokenhub.completion.status': settled.status,
    'tokenhub.charge.credits': formatMoney(settled.charge),
    'tokenhub.settled_here': settled.appliedHere,
  };
  if (settled.answeredModelId !== null) attributes[GEN_AI_RESPONSE_MODEL] = settled.answeredModelId;
  if (settled.promptTokens !== null) attributes[GEN_AI_USAGE_INPUT_TOKENS] = settled.promptTokens;
  if (settled.completionTokens !== null) attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = settled.completionTokens;
  if (settled.cachedPromptTokens !== null) attributes['tokenhub.usage.cached_input_tokens'] = settled.cachedPromptTokens;
  if (settled.cacheWriteTokens !== null) attributes['tokenhub.usage.cache_write_tokens'] = settled.cacheWriteTokens;
  if (settled.usageEstimated !== null) attributes['tokenhub.usage.estimated'] = settled.usageEstimated;
  return attributes;
}

class CompletionSpan implements CompletionTrace {
  private readonly context: Context;

  constructor(
    private readonly tracing: Tracing,
    private readonly span: Span,
    parent: Context,
  ) {
    this.context = trace.setSpan(parent, span);
  }

  private child(name: string, attributes: Attributes, kind = SpanKind.INTERNAL): Span {
    return this.tracing.tracer.startSpan(name, { kind, attributes }, this.context);
  }

  reserving(amount: bigint): TracedStep<TracedReservation> {
    const span = this.child('reservation', { 'tokenhub.reserved.credits': formatMoney(amount) });
    return {
      ended: (outcome) => {
        span.setAttribute('tokenhub.reservation.outcome', outcome);
        if (outcome !== 'reserved' && outcome !== 'earlier') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        span.end();
      },
    };
  }

  calling(attempt: number, model: string): TracedStep<TracedCall> {
    const span = this.child('upstream.call', { 'tokenhub.upstream.attempt': attempt, [GEN_AI_REQUEST_MODEL]: model }, SpanKind.CLIENT);
    return {
      ended: (outcome) => {
        span.setAttribute('tokenhub.upstream.outcome', outcome.type);
        if (outcome.type === 'failed') {
          if (outcome.httpStatus !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.httpStatus);
          // A cancel aborts the call; that is the caller's choice, not a failure.
          if (outcome.kind === 'aborted') span.setAttribute(ATTR_ERROR_TYPE, outcome.kind);
          else failed(span, outcome.kind);
        }
        span.end();
      },
    };
  }

  firstToken(): void {
    this.span.addEvent('first token');
  }

  settling(): TracedStep<TracedSettlement | 'unsettled'> {
    const span = this.child('settlement', {});
    return {
      ended: (settled) => {
        if (settled === 'unsettled') {
          failed(span, 'SETTLEMENT_FAILED');
          failed(this.span, 'SETTLEMENT_FAILED');
        } else {
          const attributes = settlementAttributes(settled);
          span.setAttributes(attributes);
          this.span.setAttributes(attributes);
          if (failedStatuses.has(settled.status)) failed(this.span, settled.errorCode ?? settled.status);
        }
        span.end();
        this.span.end();
      },
    };
  }

  refused(code: string): void {
    this.span.setAttribute('tokenhub.completion.status', 'REFUSED');
    failed(this.span, code);
    this.span.end();
  }

  answeredByEarlier(completionId: string): void {
    this.span.setAttribute('tokenhub.completion.answered_by', completionId);
    this.span.end();
  }
}

/** The completion tracer of an app whose tracing is on. */
export function completionSpans(tracing: Tracing): CompletionTracer {
  return {
    started: (start: TracedStart) => {
      const parent = tracing.active();
      const attributes: Attributes = {
        'tokenhub.completion.id': start.completionId,
        'tokenhub.account.id': start.accountId,
        [GEN_AI_OPERATION_NAME]: 'chat',
        [GEN_AI_REQUEST_MODEL]: start.model,
        [GEN_AI_REQUEST_MAX_TOKENS]: start.maxTokens,
      };
      if (start.apiKeyId !== null) attributes['tokenhub.api_key.id'] = start.apiKeyId;
      // The run outlives a startCompletion mutation: the span may end after its parent, which traces allow.
      return new CompletionSpan(tracing, tracing.tracer.startSpan('completion', { attributes }, parent), parent);
    },
  };
}
