import type { CompletionEvent } from './completion-event.js';

/**
 * Where a completion's events live while it runs and for a while after: the
 * producer appends, any number of readers replay from any index and then
 * follow live. Implementations: in-process (one instance) and Redis Streams
 * (several instances).
 */
export interface CompletionEventLog {
  /** Starts a completion's log; readers may attach from now on. */
  open(completionId: string): void;
  /** Appends in order; the event with `done` ends the log. */
  append(event: CompletionEvent): void;
  /**
   * Events with an index above `after`, then live ones up to and including
   * the terminal event. Undefined when this log holds nothing of the
   * completion (never opened here, or expired).
   */
  read(completionId: string, after: number): Promise<AsyncIterableIterator<CompletionEvent> | undefined>;
  /** Every event so far, or undefined as for read. */
  snapshot(completionId: string): Promise<CompletionEvent[] | undefined>;
  close(): Promise<void>;
}
