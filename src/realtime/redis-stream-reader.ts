import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { CompletionEvent } from '../domain/completions/completion-event.js';
import { decodeEvent } from './event-codec.js';
import type { RedisEventCursor } from './redis-event-cursor.js';

/** The stream field that holds an encoded event. */
export const EVENT_FIELD = 'e';

/**
 * The stream entry id of event `index`. Ids are the indexes themselves
 * (`0-1` for event 0), so `after` maps straight onto an id range, and Redis
 * refuses an event appended twice (an id must grow).
 */
export function entryIdOf(index: number): string {
  return `0-${index + 1}`;
}

export type StreamEntry = [id: string, fields: string[]];
type XReadReply = [key: string, entries: StreamEntry[]][] | null;

/** The event an entry holds (written with the single field EVENT_FIELD). */
export function decodeEntry([, fields]: StreamEntry): CompletionEvent {
  return decodeEvent(fields[fields.indexOf(EVENT_FIELD) + 1] as string);
}

/** Entries per stream per round; a far-behind cursor catches up over several rounds. */
const BATCH = 500;
/**
 * Longest wait of one XREAD. Cursors that join interrupt it (see
 * unblockStale), so this only bounds how long a missed interruption could
 * delay a new subscriber.
 */
const BLOCK_MS = 5_000;

/**
 * Follows every stream that cursors of this process wait on, through ONE
 * blocking connection: each round is a single `XREAD BLOCK … STREAMS k1 k2 …`
 * over all of them, from the slowest cursor of each stream. A thousand idle
 * subscribers cost a thousand small objects and one parked connection, not a
 * thousand connections, and a burst on many streams comes back in one reply.
 *
 * A cursor that joins needs a stream (or an earlier position) the pending
 * XREAD does not list, so that XREAD is interrupted with CLIENT UNBLOCK from
 * the other (non-blocking) connection and the next round lists it. Joins in
 * one turn share one interruption; a cursor joining a stream that is already
 * read from its position or earlier needs none.
 */
export class SharedStreamReader {
  private readonly cursors = new Map<string, Set<RedisEventCursor>>();
  /** Bumped when a cursor needs what the pending XREAD lacks. */
  private generation = 0;
  /** The generation the pending XREAD was built at; -1 while none is pending. */
  private pendingGeneration = -1;
  /** CLIENT ID of the blocking connection; it changes when ioredis reconnects. */
  private clientId: number | undefined;
  private waking = false;
  private idle: (() => void) | undefined;
  /**
   * Fails the command under way on the blocking connection when it drops:
   * without resending (a blocking read must be rebuilt from fresh
   * positions), ioredis drops a command that was in flight at a disconnect
   * without ever settling it, and the loop would wait for ever.
   */
  private abandonCommand: ((error: Error) => void) | undefined;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly blocking: Redis,
    private readonly control: Redis,
    private readonly logger: Logger,
  ) {
    blocking.on('close', () => {
      this.clientId = undefined;
      this.abandonCommand?.(new Error('the Redis connection of the event reader closed'));
    });
    this.loop = this.run();
  }

  /** Feeds `cursor` from its `seen` position until it ends. */
  follow(cursor: RedisEventCursor): void {
    if (this.closed) return cursor.end();
    let following = this.cursors.get(cursor.streamKey);
    const covered = following !== undefined && [...following].some((other) => other.seen <= cursor.seen);
    if (!following) this.cursors.set(cursor.streamKey, (following = new Set()));
    following.add(cursor);
    if (covered) return;
    this.generation++;
    this.idle?.();
    this.wake();
  }

  unfollow(cursor: RedisEventCursor): void {
    const following = this.cursors.get(cursor.streamKey);
    if (!following?.delete(cursor)) return;
    // The pending XREAD may still list the stream; its entries find no cursor.
    if (following.size === 0) this.cursors.delete(cursor.streamKey);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (this.cursors.size === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        this.idle = undefined;
        continue;
      }
      const keys = [...this.cursors.keys()];
      const ids = keys.map((key) => entryIdOf(Math.min(...[...(this.cursors.get(key) ?? [])].map((c) => c.seen))));
      this.pendingGeneration = this.generation;
      let reply: XReadReply;
      try {
        this.clientId ??= await this.untilDropped(() => this.blocking.client('ID') as Promise<number>);
        reply = await this.untilDropped(() => this.blocking.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids) as Promise<XReadReply>);
        failures = 0;
      } catch (error) {
        if (this.closed) break;
        this.logger.warn({ err: error, streams: keys.length }, 'reading completion events from Redis failed; retrying');
        await sleep(Math.min(100 * 2 ** failures++, 5_000));
        continue;
      } finally {
        this.pendingGeneration = -1;
      }
      if (reply) this.deliver(reply);
    }
  }

  /** A command on the blocking connection, failed if the connection drops before it answers. */
  private untilDropped<T>(send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.abandonCommand = reject;
      send().then(resolve, reject);
    }).finally(() => (this.abandonCommand = undefined));
  }

  private deliver(reply: NonNullable<XReadReply>): void {
    for (const [key, entries] of reply) {
      const following = this.cursors.get(key);
      if (!following) continue;
      // A copy: a cursor that ends leaves the set.
      const cursors = [...following];
      for (const entry of entries) {
        let event: CompletionEvent;
        try {
          event = decodeEntry(entry);
        } catch (error) {
          // Nobody can read past an entry that cannot be decoded: end its
          // readers rather than read it again in every round.
          this.logger.error({ err: error, stream: key, entry: entry[0] }, 'undecodable completion event in Redis');
          for (const cursor of cursors) cursor.end();
          break;
        }
        for (const cursor of cursors) cursor.offer(event);
      }
    }
  }

  private wake(): void {
    if (this.waking) return;
    this.waking = true;
    void this.unblockStale().finally(() => (this.waking = false));
  }

  /**
   * Interrupts the pending XREAD while it was built before the latest join.
   * An UNBLOCK that reaches Redis before the XREAD itself finds nothing
   * blocked and does nothing, so this checks again shortly until a round
   * built after the join is pending.
   */
  private async unblockStale(): Promise<void> {
    let delayMs = 1;
    while (!this.closed && this.pendingGeneration !== -1 && this.pendingGeneration < this.generation) {
      if (this.clientId !== undefined) {
        await this.control.client('UNBLOCK', this.clientId).catch((error: unknown) => this.logger.warn({ err: error }, 'could not interrupt the Redis event reader'));
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 50);
    }
  }

  /** Stops reading; every cursor ends (after handing out what it holds). */
  async close(): Promise<void> {
    this.closed = true;
    this.idle?.();
    this.blocking.disconnect();
    await this.loop;
    for (const following of [...this.cursors.values()]) for (const cursor of [...following]) cursor.end();
    this.cursors.clear();
  }
}
