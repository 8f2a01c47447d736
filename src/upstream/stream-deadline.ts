/**
 * A timeout for a stream that moves its deadline on every chunk without
 * touching a timer: resume() only records the time, and the single timer,
 * when it fires, sleeps again for whatever is left. So a stream costs about
 * one timer per timeout period, not one per chunk.
 *
 * A deadline that looks passed is confirmed one event-loop turn later. After
 * a stall of this process (a GC pause, a busy neighbour), timers run before
 * the sockets are read, so a chunk that arrived on time would otherwise
 * lose the race against its own timeout and fail a healthy completion.
 */
export class StreamDeadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #limitMs = 0;
  #since = 0;
  #counting = false;
  readonly #onExpire: () => void;

  constructor(onExpire: () => void) {
    this.#onExpire = onExpire;
  }

  /** Starts counting `limitMs` from now. */
  resume(limitMs: number): void {
    this.#since = performance.now();
    this.#counting = true;
    if (limitMs !== this.#limitMs) {
      // A pending timer may be set for a longer limit than the new one.
      this.#limitMs = limitMs;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#timer ??= setTimeout(this.#check, limitMs);
  }

  /** Stops counting until the next resume(), e.g. while the consumer holds a chunk. */
  pause(): void {
    this.#counting = false;
  }

  stop(): void {
    this.#counting = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (!this.#counting) return;
    const left = this.#limitMs - (performance.now() - this.#since);
    if (left > 0) {
      this.#timer = setTimeout(this.#check, Math.ceil(left));
      return;
    }
    const since = this.#since;
    setImmediate(() => {
      // A chunk read in between (it came while the process stalled) moved
      // the deadline, and resume() armed the timer again.
      if (!this.#counting || this.#since !== since) return;
      this.#counting = false;
      this.#onExpire();
    });
  };
}
