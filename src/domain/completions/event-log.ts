import type { Completion } from './completion-record.js';
import type { CompletionEvent } from './completion-event.js';

/**
 * Where a completion's events live while it runs and for a while after: the
 * producer appends, any number of readers replay from any index and then
 * follow live. realtime/ implements it in process (one instance) and over
 * Redis Streams (several instances).
 */
export interface CompletionEventLog {
  /** Starts a completion's log; once it resolves, readers (on any instance sharing the log) may attach. */
  open(completionId: string): Promise<void>;
  /**
   * Appends in order; the event with `done` ends the log, on every instance
   * sharing it: nothing appended after it is kept or delivered.
   */
  append(event: CompletionEvent): void;
  /**
   * `handler` is told when an append was refused because the completion's
   * log had already ended (another process ended it, as INTERRUPTED): the
   * producer lost that completion and must stop.
   */
  onLost(handler: (completionId: string) => void): void;
  /**
   * Ends the log of a completion whose producer died (settled INTERRUPTED by
   * another process): appends its terminal event after the last one, unless
   * the log has ended or holds nothing of it. Readers waiting on it end.
   */
  end(completion: Completion): Promise<void>;
  /**
   * Optional back-pressure hint for the producer: true when readers are
   * attached here and every one is still busy with what it has (none waits
   * for the next event), so that an event appended now would only queue;
   * `wake` is then called once, as soon as one of them asks for more, and
   * the producer publishes what it gathered meanwhile as one event. Logs
   * that cannot see their readers leave it out: the producer never holds.
   */
  holdFor?(completionId: string, wake: () => void): boolean;
  /**
   * Events with an index above `after`, then live ones up to and including
   * the terminal event. Undefined when this log holds nothing of the
   * completion (never opened here, or expired).
   */
  read(completionId: string, after: number): Promise<AsyncIterableIterator<CompletionEvent> | undefined>;
  /** Every event so far, or undefined as for read. */
  snapshot(completionId: string): Promise<CompletionEvent[] | undefined>;
  /** Rejects when the log's store cannot be reached (readiness checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
