import type { Database } from '../../db/database.js';
import { unusableAmong } from '../api-keys/api-key-record.js';
import { RateLimitedError, UnauthenticatedError, type DomainError } from '../errors.js';
import type { Viewer } from './viewer.js';

/**
 * The last item of a stream the domain ended on its own: the stream stops
 * with this error (a face answers it as an error, then ends the stream).
 */
export class StreamEnded {
  constructor(readonly error: DomainError) {}
}

/** A stream the domain hands out to a key: its items, then possibly StreamEnded. */
export type GuardedStream<T> = AsyncIterable<T | StreamEnded>;

/** A stream's item, or the error the domain ended the stream with, thrown: how a face reads a GuardedStream. */
export function unlessEnded<T>(item: T | StreamEnded): T {
  if (item instanceof StreamEnded) throw item.error;
  return item;
}

/**
 * A key authorises what it holds open only while it is live. Every stream
 * handed to a key (subscriptions, REST streams) is registered here, and
 * ends with UNAUTHENTICATED once the key is revoked or expires: at once for
 * a revocation on this instance, and within `intervalMs` on every instance,
 * where one query per interval checks every key that holds a stream. A key
 * holds at most `maxPerKey` streams on an instance: past that RATE_LIMITED,
 * so that one key cannot hold the memory others need.
 */
export class KeyWatch {
  /** By key id: its streams, and the places claimed for streams about to start. */
  private readonly holders = new Map<string, Set<Holder>>();
  /**
   * Keys revoked on this instance, with when: a request that authenticated
   * just before the revocation must not open a stream after it, which the
   * revocation could no longer end. Kept for two intervals, past which no
   * authentication that began before it is still running.
   */
  private readonly revokedHere = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly intervalMs: number,
    private readonly maxPerKey: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Holds a place for one stream of the viewer's key, or refuses RATE_LIMITED
   * when the key has none left; at once, before anything starts, so that
   * concurrent starts cannot all pass the count and run (and be charged)
   * with their streams refused afterwards. The place is the stream's once
   * guarded, and given back by `release` when no stream comes of it; until
   * then, `onEnded` hears when the key stops being live.
   */
  claim(viewer: Viewer, onEnded: (error: DomainError) => void = () => undefined): StreamSlot {
    if (viewer.kind !== 'apiKey') return { guard: (source) => source, release: () => undefined };
    const keyId = viewer.apiKey.id;
    if (this.revokedHere.has(keyId)) throw new UnauthenticatedError('this API key was revoked; create a new one');
    let held = this.holders.get(keyId);
    if ((held?.size ?? 0) >= this.maxPerKey) {
      throw new RateLimitedError(`this API key holds ${this.maxPerKey} streams open on this server, the most it may; close one first`, 1);
    }
    if (!held) this.holders.set(keyId, (held = new Set()));
    const holding = held;
    const placeholder: Holder = { end: onEnded };
    holding.add(placeholder);
    let settled = false;
    const leave = (holder: Holder) => {
      holding.delete(holder);
      if (holding.size === 0 && this.holders.get(keyId) === holding) this.holders.delete(keyId);
    };
    return {
      guard: <T>(source: AsyncIterable<T>): GuardedStream<T> => {
        if (settled) throw new Error('a stream slot guards one stream');
        settled = true;
        const iterator: GuardedIterator<T> = new GuardedIterator(source[Symbol.asyncIterator](), () => leave(iterator));
        holding.delete(placeholder);
        holding.add(iterator);
        return { [Symbol.asyncIterator]: () => iterator };
      },
      release: () => {
        if (settled) return;
        settled = true;
        leave(placeholder);
      },
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.check().catch(this.onError), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The stream, ended with UNAUTHENTICATED once the viewer's key stops being live (RATE_LIMITED when it has no room). */
  guard<T>(viewer: Viewer, source: AsyncIterable<T>): GuardedStream<T> {
    return this.claim(viewer).guard(source);
  }

  /**
   * A connection that carries the key's streams (graphql-sse's single
   * connection): it counts as one of the key's streams, so a key cannot
   * pile them up, and `ended` gives the error once the key stops being
   * live, when the face must close it. `release` when the connection ends.
   */
  holdConnection(viewer: Viewer): ConnectionHold {
    let settle!: (reason: DomainError | undefined) => void;
    const ended = new Promise<DomainError | undefined>((resolve) => (settle = resolve));
    const slot = this.claim(viewer, (error) => {
      slot.release();
      settle(error);
    });
    return {
      ended,
      release: () => {
        slot.release();
        settle(undefined);
      },
    };
  }

  /** Ends every stream the key holds on this instance, and refuses it new ones (it was just revoked here). */
  revoked(keyId: string): void {
    this.revokedHere.set(keyId, Date.now());
    this.end(keyId, new UnauthenticatedError('this API key was revoked; create a new one'));
  }

  private async check(): Promise<void> {
    for (const [keyId, at] of this.revokedHere) if (Date.now() - at > 2 * this.intervalMs) this.revokedHere.delete(keyId);
    if (this.holders.size === 0) return;
    for (const keyId of await unusableAmong(this.db, [...this.holders.keys()])) {
      this.end(keyId, new UnauthenticatedError('this API key was revoked or has expired; create a new one'));
    }
  }

  private end(keyId: string, error: DomainError): void {
    for (const iterator of [...(this.holders.get(keyId) ?? [])]) iterator.end(error);
  }
}

/** A place in a key's count: a stream, or one claimed for a stream being started (or for a connection). */
interface Holder {
  end(error: DomainError): void;
}

/** See KeyWatch.holdConnection. */
export interface ConnectionHold {
  /** Resolves with the reason once the key stops being live; with undefined once released. */
  readonly ended: Promise<DomainError | undefined>;
  release(): void;
}

/** See KeyWatch.claim. */
export interface StreamSlot {
  guard<T>(source: AsyncIterable<T>): GuardedStream<T>;
  release(): void;
}

/**
 * The source's items, then StreamEnded once end() is called. Ending asks
 * the source to return, which wakes a pending next(): that read delivers
 * the StreamEnded, so a quiet stream ends at once too.
 */
class GuardedIterator<T> implements AsyncIterator<T | StreamEnded>, Holder {
  private ended: StreamEnded | undefined;
  private finished = false;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly release: () => void,
  ) {}

  next(): Promise<IteratorResult<T | StreamEnded>> {
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    if (this.ended) return Promise.resolve(this.last(this.ended));
    return this.source.next().then((result) => {
      if (this.ended && !this.finished) return this.last(this.ended);
      if (result.done) this.close();
      return result;
    });
  }

  end(error: DomainError): void {
    if (this.ended || this.finished) return;
    this.ended = new StreamEnded(error);
    this.release();
    // A source that fails to return has ended anyway.
    Promise.resolve(this.source.return?.()).catch(() => undefined);
  }

  return(): Promise<IteratorResult<T | StreamEnded>> {
    this.close();
    return this.source.return?.() ?? Promise.resolve({ done: true, value: undefined });
  }

  private last(ended: StreamEnded): IteratorResult<StreamEnded> {
    this.close();
    return { done: false, value: ended };
  }

  private close(): void {
    this.finished = true;
    this.release();
  }
}
