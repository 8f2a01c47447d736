import type { Completion } from '../domain/completions/completion-record.js';
import { terminalEvent, type CompletionEvent } from '../domain/completions/completion-event.js';
import type { CompletionEventLog } from '../domain/completions/event-log.js';

class Stream {
  events: CompletionEvent[] = [];
  readonly waiters = new Set<() => void>();
  /** Cursors attached and not closed. */
  readers = 0;
  /** A producer holding text until a reader asks for more (see holdFor). */
  onReaderWaiting: (() => void) | undefined;
  done = false;
  /**
   * Ended and without readers: its events are let go (see release) and
   * what is left only remembers that it ended.
   */
  released = false;

  /**
   * A finished stream nobody reads any more holds its events for nothing: at
   * a few hundred completions a second they were most of the process's
   * memory. A later reader replays the settled row instead (the lookup that
   * precedes every read already fetched it).
   */
  releaseIfUnread(): void {
    if (!this.done || this.readers > 0) return;
    this.events = [];
    this.released = true;
  }
}

/**
 * A cursor over one stream. Written by hand rather than as an async
 * generator so that `return()` (a client going away) takes effect at once,
 * even while it waits for an event that may never come.
 */
class StreamCursor implements AsyncIterableIterator<CompletionEvent> {
  private position: number;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Stream,
    after: number,
  ) {
    this.position = Math.max(0, after + 1);
    stream.readers += 1;
  }

  async next(): Promise<IteratorResult<CompletionEvent>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const event = this.stream.events[this.position];
      if (event) {
        this.position += 1;
        return { done: false, value: event };
      }
      if (this.stream.done) return this.return();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.stream.waiters.add(resolve);
        // A producer that held text for this reader publishes it now, and
        // the append resolves this very wait.
        const producer = this.stream.onReaderWaiting;
        this.stream.onReaderWaiting = undefined;
        producer?.();
      });
    }
  }

  async return(): Promise<IteratorResult<CompletionEvent>> {
    if (!this.closed) {
      this.stream.readers -= 1;
      this.stream.releaseIfUnread();
    }
    this.closed = true;
    if (this.wake) {
      this.stream.waiters.delete(this.wake);
      this.wake();
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<CompletionEvent> {
    return this;
  }
}

/**
 * The event log of a single instance. An ended log lets its events go once
 * no cursor reads it, and is forgotten `retentionMs` later (until then an
 * append to it still reports the completion lost); readers that come after
 * are served from Postgres.
 */
export class InProcessEventLog implements CompletionEventLog {
  private readonly streams = new Map<string, Stream>();
  private readonly lostHandlers = new Set<(completionId: string) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly retentionMs = 60_000) {}

  async open(completionId: string): Promise<void> {
    if (!this.streams.has(completionId)) this.streams.set(completionId, new Stream());
  }

  append(event: CompletionEvent): void {
    const stream = this.streams.get(event.completionId);
    if (!stream) return;
    if (stream.done) {
      for (const handler of this.lostHandlers) handler(event.completionId);
      return;
    }
    stream.events.push(event);
    if (event.done) {
      stream.done = true;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.streams.delete(event.completionId);
      }, this.retentionMs);
      timer.unref();
      this.timers.add(timer);
    }
    for (const wake of stream.waiters) wake();
    stream.waiters.clear();
    stream.releaseIfUnread();
  }

  onLost(handler: (completionId: string) => void): void {
    this.lostHandlers.add(handler);
  }

  holdFor(completionId: string, wake: () => void): boolean {
    const stream = this.streams.get(completionId);
    if (!stream || stream.done || stream.readers === 0 || stream.waiters.size > 0) return false;
    stream.onReaderWaiting = wake;
    return true;
  }

  async end(completion: Completion): Promise<void> {
    const stream = this.streams.get(completion.id);
    if (stream && !stream.done) this.append(terminalEvent(completion, stream.events.length));
  }

  async read(completionId: string, after: number): Promise<AsyncIterableIterator<CompletionEvent> | undefined> {
    const stream = this.streams.get(completionId);
    return stream && !stream.released ? new StreamCursor(stream, after) : undefined;
  }

  async snapshot(completionId: string): Promise<CompletionEvent[] | undefined> {
    const stream = this.streams.get(completionId);
    return stream && !stream.released ? stream.events.slice() : undefined;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    // Readers end at once: nothing will be appended any more.
    for (const stream of this.streams.values()) {
      stream.done = true;
      for (const wake of stream.waiters) wake();
    }
    this.streams.clear();
  }
}
