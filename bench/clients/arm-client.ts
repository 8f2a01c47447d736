/** Milliseconds since the epoch with sub-millisecond precision, comparable across the bench's processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** One completion as a client saw it. Times are from now(). */
export interface CompletionSample {
  startedAt: number;
  /** When the gateway answered the start mutation (two-step arms only). */
  acceptedAt: number | null;
  /** The first event that carried text. */
  firstTokenAt: number | null;
  /** The last event (done), or null when it did not end. */
  finishedAt: number | null;
  /** Upstream content tokens received. */
  tokens: number;
  /** Events (SSE messages or GraphQL results) that carried text. */
  events: number;
  /** Why it failed; 'aborted' when the cell ended first (not a failure). */
  error: string | null;
}

/** Told of every text delivery: how many upstream tokens it carried. */
export type TokenSink = (tokens: number, at: number) => void;

export interface ArmClient {
  /** Opens what a frontend keeps open between completions (a WebSocket), if anything. */
  connect(): Promise<void>;
  /** Runs one completion until its last event, or until `signal` aborts. */
  complete(onTokens: TokenSink, signal: AbortSignal): Promise<CompletionSample>;
  close(): void;
}

export function newSample(): CompletionSample {
  return { startedAt: now(), acceptedAt: null, firstTokenAt: null, finishedAt: null, tokens: 0, events: 0, error: null };
}

export function failureOf(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'aborted';
  return error instanceof Error ? error.message : JSON.stringify(error);
}
