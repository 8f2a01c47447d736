import type { Logger } from '../../logger.js';
import type { Model } from '../catalogue/model.js';
import { say, UpstreamUnavailableError } from '../errors.js';
import type { BreakerPermit, CircuitBreakers } from './circuit-breaker.js';
import type { CompletionObserver } from './completion-observer.js';
import { tracedFailure, type CompletionTrace, type TracedCall } from './completion-tracer.js';
import type { UpstreamChunk, UpstreamClient, UpstreamRequest } from './upstream.js';
import { isRetryable, retryDelayMs, waitUnlessAborted, type RetryPolicy } from './upstream-retry.js';

// The upstream as a completion's run calls it: retried, moved to the
// fallback model, and kept away from models whose circuit breaker is open.
// Everything here happens before the first output. Once a call has yielded
// anything (content, a tool call, a finish_reason or usage), its failure
// is the completion's: subscribers may have seen its text, and a second
// call would answer differently and be charged again.

/** Where a completion's first call goes, decided before anything is reserved. */
export interface UpstreamRoute {
  /** The requested model, or its fallback when the requested one's breaker refuses calls. */
  model: Model;
  /** The breaker's leave for the first call; released when the start goes no further. */
  permit: BreakerPermit;
  /** Where the run switches when `model` keeps failing, looked up at the switch; undefined when there is none left. */
  fallback: FallbackLookup | undefined;
}

/**
 * The fallback as the catalogue has it when the run switches: the admin may
 * have disabled, repriced or replaced it while the completion waited to
 * retry. Undefined when it no longer qualifies.
 */
export type FallbackLookup = () => Promise<Model | undefined>;

/** What the run lets calls change: the request goes to another model only before any output. */
export interface CallTarget {
  readonly request: UpstreamRequest;
  sendTo(model: Model): void;
}

interface Call {
  model: Model;
  permit: BreakerPermit;
  fallback: FallbackLookup | undefined;
  /** Of this model, from 1. */
  attempt: number;
}

export class ResilientUpstream {
  constructor(
    private readonly upstream: UpstreamClient,
    private readonly breakers: CircuitBreakers,
    private readonly policy: RetryPolicy,
    private readonly observer: CompletionObserver,
  ) {}

  /**
   * The route of a new completion of `model`: to it while its breaker lets
   * calls through, else to its fallback while that one's does; else the
   * start is refused UNAVAILABLE at once, before any credit is touched.
   * `fallback` is the one that qualifies now; `fallbackAtSwitch` finds it
   * again when a run switches later.
   */
  route(model: Model, fallback: Model | undefined, fallbackAtSwitch: FallbackLookup): UpstreamRoute {
    const permit = this.breakers.tryAcquire(model.upstreamId);
    if (permit) return { model, permit, fallback: fallback && fallbackAtSwitch };
    const fallbackPermit = fallback && this.breakers.tryAcquire(fallback.upstreamId);
    if (fallback && fallbackPermit) return { model: fallback, permit: fallbackPermit, fallback: undefined };
    const retryAfter = Math.min(this.breakers.retryAfterSeconds(model.upstreamId), fallback ? this.breakers.retryAfterSeconds(fallback.upstreamId) : Infinity);
    throw new UpstreamUnavailableError(
      say`${model.id} is failing upstream${fallback ? ` and so is its fallback ${fallback.id}` : ''}, so the gateway is not calling it for now; nothing was reserved; retry in ${retryAfter} s`,
      retryAfter,
    );
  }

  /**
   * The chunks of one completion: from the route's model, retried after a
   * failure before any output while the policy allows (see upstream-retry.ts)
   * and the breaker lets calls through, then on the fallback. Throws the last
   * failure when no call is left, and at once when the caller aborts (also
   * during a wait). Every permit is reported or released, and every call
   * traced.
   */
  async *stream(target: CallTarget, route: UpstreamRoute, signal: AbortSignal, log: Logger, trace: CompletionTrace): AsyncGenerator<UpstreamChunk, void, undefined> {
    const deadline = Date.now() + this.policy.budgetMs;
    let call: Call | undefined = { ...route, attempt: 1 };
    target.sendTo(call.model);
    for (;;) {
      let answered = false;
      try {
        // The permit learns whether the upstream answered. Inline rather than
        // a generator of its own: every layer of async generator costs each
        // chunk its promises, hundreds of times per completion.
        const permit = call.permit;
        const traced = trace.calling(call.attempt, call.model.id);
        let failure: TracedCall | undefined;
        try {
          for await (const chunk of this.upstream.streamChat(target.request, signal)) {
            if (!answered) permit.succeeded();
            answered = true;
            yield chunk;
          }
        } catch (error) {
          if (!answered && !signal.aborted && isRetryable(error)) permit.failed();
          failure = tracedFailure(error);
          throw error;
        } finally {
          permit.released();
          // Also when the run stops reading (cut at maxTokens): the generator is returned.
          traced.ended(failure ?? (answered ? { type: 'answered' } : { type: 'left' }));
        }
        return;
      } catch (error) {
        if (answered || signal.aborted || !isRetryable(error)) throw error;
        const failed: Call = call;
        log.warn({ model: failed.model.id, attempt: failed.attempt, error: error.kind, status: error.status, retryAfterSeconds: error.retryAfterSeconds }, 'an upstream call failed before any output');
        call = await this.nextCall(failed, retryDelayMs(error, failed.attempt), deadline, signal, log);
        if (!call) throw error;
        const next = call.model === failed.model ? 'retry' : 'fallback';
        this.observer.upstreamRetried(failed.model.id, error.kind, next);
        if (next === 'fallback') {
          log.warn({ model: failed.model.id, fallback: call.model.id }, 'switching the completion to the fallback model');
          target.sendTo(call.model);
        }
      }
    }
  }

  /**
   * The call after `failed`: the same model after `waitMs`, while attempts
   * are left, the wait ends within the budget and its breaker lets it
   * through; else the fallback, at once; else none. The permit is taken
   * before the wait, so a breaker that opens meanwhile still lets this one
   * call through: at most one per completion already waiting.
   */
  private async nextCall(failed: Call, waitMs: number, deadline: number, signal: AbortSignal, log: Logger): Promise<Call | undefined> {
    const retry = failed.attempt < this.policy.maxAttempts && Date.now() + waitMs <= deadline ? this.breakers.tryAcquire(failed.model.upstreamId) : undefined;
    if (retry) {
      try {
        await waitUnlessAborted(waitMs, signal);
      } catch (error) {
        retry.released();
        throw error;
      }
      return { ...failed, permit: retry, attempt: failed.attempt + 1 };
    }
    // A catalogue that cannot be read now means no fallback: the completion
    // fails with the upstream's error, not with the database's.
    const fallback = await failed.fallback?.().catch((error: unknown) => {
      log.warn({ err: error }, 'could not read the catalogue to switch to the fallback; the completion goes on without it');
      return undefined;
    });
    const permit = fallback && this.breakers.tryAcquire(fallback.upstreamId);
    return fallback && permit ? { model: fallback, permit, fallback: undefined, attempt: 1 } : undefined;
  }
}
