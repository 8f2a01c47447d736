// A circuit breaker per upstream model, per instance: after `threshold`
// consecutive failed calls it opens, and for `cooldownMs` no completion
// calls that model (they start on its fallback or are refused UNAVAILABLE
// at once, reserving nothing). Then it is half-open: one call is let
// through as a probe; its success closes the breaker, its failure opens it
// for another cool-down. Per model, because Claude's rate limits and
// overloads are per model and a fallback is only worth having if one
// model's trouble does not stop the others; a whole-upstream outage opens
// each model's breaker after `threshold` calls of its own.
//
// Only what the run would retry counts as a failure (a 429, a 5xx, a
// connection failure before any output): a bad request or a timeout says
// nothing about whether the next call will be refused. A call succeeds
// when its first output arrives.

export interface BreakerOptions {
  /** Consecutive failed calls that open a model's breaker. */
  threshold: number;
  /** How long it stays open before one probe is let through. */
  cooldownMs: number;
}

/**
 * What a call holds while it runs: it reports how the call went, once (the
 * first report counts). A call that ends without a verdict (cancelled, a
 * bad request, a refused reservation) is released, so that a probe never
 * holds a breaker half-open for ever.
 */
export interface BreakerPermit {
  succeeded(): void;
  failed(): void;
  released(): void;
}

export type BreakerChange = 'opened' | 'closed';

class CircuitBreaker {
  private failures = 0;
  /** Set while open or half-open: calls are refused until then. */
  private openUntil: number | undefined;
  private probing = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly changed: (change: BreakerChange) => void,
  ) {}

  tryAcquire(): BreakerPermit | undefined {
    if (this.openUntil === undefined) return this.permit(false);
    if (Date.now() < this.openUntil || this.probing) return undefined;
    this.probing = true;
    return this.permit(true);
  }

  /** Whole seconds until a call may be let through again (at least 1). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((this.openUntil ?? 0) - Date.now()) / 1000));
  }

  private permit(probe: boolean): BreakerPermit {
    let reported = false;
    const report = (outcome: () => void) => () => {
      if (reported) return;
      reported = true;
      if (probe) this.probing = false;
      outcome();
    };
    return {
      succeeded: report(() => this.succeeded()),
      failed: report(() => this.failed(probe)),
      released: report(() => undefined),
    };
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.openUntil === undefined) return;
    this.openUntil = undefined;
    this.changed('closed');
  }

  private failed(probe: boolean): void {
    this.failures += 1;
    // A call that started before the breaker opened and fails after adds
    // nothing: only the probe's failure starts another cool-down.
    if (this.openUntil !== undefined && !probe) return;
    if (!probe && this.failures < this.options.threshold) return;
    this.openUntil = Date.now() + this.options.cooldownMs;
    this.changed('opened');
  }
}

/** The breakers of every upstream model this instance calls, created on first use. */
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly options: BreakerOptions,
    private readonly changed: (upstreamModel: string, change: BreakerChange) => void,
  ) {}

  /** A permit to call `upstreamModel` now, or undefined while its breaker refuses calls. */
  tryAcquire(upstreamModel: string): BreakerPermit | undefined {
    return this.of(upstreamModel).tryAcquire();
  }

  retryAfterSeconds(upstreamModel: string): number {
    return this.of(upstreamModel).retryAfterSeconds();
  }

  private of(upstreamModel: string): CircuitBreaker {
    let breaker = this.breakers.get(upstreamModel);
    if (!breaker) {
      breaker = new CircuitBreaker(this.options, (change) => this.changed(upstreamModel, change));
      this.breakers.set(upstreamModel, breaker);
    }
    return breaker;
  }
}
