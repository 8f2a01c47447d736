import type { CompletionEvent } from '../domain/completions/completion-event.js';

/**
 * One subscriber's position in a completion's Redis stream. Events are
 * offered to it from its replay and then by the shared reader, which may
 * offer an index twice or run ahead of it (it reads from the slowest cursor
 * of a stream); the cursor accepts only the index right after the last one it
 * saw, so each index is taken once and in order. It hands out those above
 * `after`, and ends with the terminal event, even one at or below `after`
 * (a reader asking for more than exists still learns that the log ended).
 *
 * Written by hand rather than as an async generator so that `return()` (a
 * client going away) takes effect at once, even while it waits.
 */
export class RedisEventCursor implements AsyncIterableIterator<CompletionEvent> {
  private readonly queue: CompletionEvent[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly streamKey: string,
    private readonly after: number,
    /** The last index this cursor saw: where the shared reader must read from for it. */
    public seen: number,
    private readonly onEnd: (cursor: RedisEventCursor) => void,
  ) {}

  offer(event: CompletionEvent): void {
    if (this.ended || event.index !== this.seen + 1) return;
    this.seen = event.index;
    if (event.index > this.after) this.queue.push(event);
    if (event.done) this.end();
    else this.signal();
  }

  /** No more events: what is queued is still handed out. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async next(): Promise<IteratorResult<CompletionEvent>> {
    for (;;) {
      const event = this.queue.shift();
      if (event) return { done: false, value: event };
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<CompletionEvent>> {
    this.queue.length = 0;
    this.end();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<CompletionEvent> {
    return this;
  }
}
