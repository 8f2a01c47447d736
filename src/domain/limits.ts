/**
 * The bounds the domain holds every caller to (README, "Limits and why"):
 * what one account or key may hold, and how long a completion, its
 * settlement and a key row read from Postgres may last. config.ts reads
 * them from the environment; the domain is their only consumer.
 */
export interface Limits {
  /** Live (unrevoked, unexpired) API keys an account may hold. */
  maxKeysPerAccount: number;
  /** Streams (subscriptions, REST streams) a key may hold open on this instance. */
  maxStreamsPerKey: number;
  /** The longest a completion may run before it is cut as if for length. */
  maxCompletionDurationMs: number;
  /** How long past that its settlement may take before the overdue sweep ends it. */
  settlementGraceMs: number;
  /** How often each instance sweeps for completions that must end (and beats, with Redis). */
  sweepIntervalMs: number;
  /**
   * How often each instance checks that the keys holding streams are still
   * live, and how long it trusts a key it read (a change made on another
   * instance is seen within this).
   */
  keyCheckIntervalMs: number;
}
