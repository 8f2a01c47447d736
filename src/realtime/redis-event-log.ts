import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Completion } from '../domain/completions/completion-record.js';
import { terminalEvent, type CompletionEvent } from '../domain/completions/completion-event.js';
import { encodeEvent } from './event-codec.js';
import type { CompletionEventLog } from '../domain/completions/event-log.js';
import { connectRedis } from './redis-client.js';
import { RedisEventCursor } from './redis-event-cursor.js';
import { decodeEntry, entryIdOf, EVENT_FIELD, SharedStreamReader, type StreamEntry } from './redis-stream-reader.js';

/**
 * A running completion's keys expire this long after they were last
 * refreshed, so a process that dies mid-stream leaves nothing behind for
 * good; the producer refreshes them well before (REFRESH_MS).
 */
const ACTIVE_TTL_MS = 60 * 60_000;
const REFRESH_MS = 10 * 60_000;
/**
 * Ended streams stay at least this long whatever the configured retention: a
 * follower that took its snapshot just before the end, or lost its
 * connection for a moment, must still find the terminal event.
 */
const MIN_RETENTION_MS = 30_000;

export interface RedisEventLogOptions {
  url: string;
  /** Prepended to every key, so that deployments (or test runs) can share a Redis. */
  keyPrefix: string;
  /** How long an ended completion's events stay in Redis before replays read Postgres. */
  retentionMs: number;
  logger: Logger;
}

/**
 * The completion event log shared by every instance, on Redis Streams.
 *
 * Keys (`{id}` is a hash tag, so a completion's keys share a cluster slot):
 *   <prefix>completion:{id}:events  stream; entry `0-(index+1)`, field `e` = the encoded event
 *   <prefix>completion:{id}:open    set at open, so a completion with no event yet is known
 * Both live ACTIVE_TTL_MS while the completion runs and the retention after
 * its terminal event.
 *
 * Appending is one XADD, sent without waiting (ioredis pipelines what one
 * turn of the event loop sends, and one connection keeps the order); only
 * this process appends a completion it runs. Reading replays with XRANGE,
 * then follows through the process's SharedStreamReader: one blocking
 * connection for all subscribers.
 */
export class RedisEventLog implements CompletionEventLog {
  /** When this process last set the TTL of a running completion's keys. */
  private readonly refreshedAt = new Map<string, number>();
  private readonly retentionMs: number;

  private constructor(
    private readonly writer: Redis,
    private readonly reader: SharedStreamReader,
    private readonly options: RedisEventLogOptions,
  ) {
    this.retentionMs = Math.max(options.retentionMs, MIN_RETENTION_MS);
  }

  static async connect(options: RedisEventLogOptions): Promise<RedisEventLog> {
    const { url, keyPrefix, logger } = options;
    const writer = await connectRedis(url, `${keyPrefix}events-writer`, logger, { enableAutoPipelining: true });
    // A blocking XREAD holds its connection: the reader gets its own, and a
    // read cut by a reconnect is retried by the reader with fresh positions,
    // not resent by ioredis.
    const blocking = await connectRedis(url, `${keyPrefix}events-reader`, logger, {
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
    }).catch(async (error: unknown) => {
      writer.disconnect();
      throw error;
    });
    return new RedisEventLog(writer, new SharedStreamReader(blocking, writer, logger), options);
  }

  private eventsKey(completionId: string): string {
    return `${this.options.keyPrefix}completion:{${completionId}}:events`;
  }

  private openKey(completionId: string): string {
    return `${this.options.keyPrefix}completion:{${completionId}}:open`;
  }

  async open(completionId: string): Promise<void> {
    await this.writer.set(this.openKey(completionId), '1', 'PX', ACTIVE_TTL_MS);
  }

  append(event: CompletionEvent): void {
    const key = this.eventsKey(event.completionId);
    const failed = (error: unknown) => this.logFailedAppend(event, error);
    // Not awaited: what one turn of the event loop sends leaves in one write
    // (auto-pipelining), in order, on this one connection.
    this.writer.xadd(key, entryIdOf(event.index), EVENT_FIELD, encodeEvent(event)).catch(failed);
    const ttl = this.ttlToSet(event);
    if (ttl !== undefined) {
      this.writer.pexpire(key, ttl).catch(failed);
      this.writer.pexpire(this.openKey(event.completionId), ttl).catch(failed);
    }
  }

  /**
   * The TTL to give a completion's keys along with `event`, if any: the
   * retention once it ends; ACTIVE_TTL_MS with its first event (which creates
   * the stream) and again every REFRESH_MS while it runs.
   */
  private ttlToSet(event: CompletionEvent): number | undefined {
    const id = event.completionId;
    if (event.done) {
      this.refreshedAt.delete(id);
      return this.retentionMs;
    }
    const refreshed = this.refreshedAt.get(id);
    if (refreshed !== undefined && Date.now() - refreshed < REFRESH_MS) return undefined;
    this.refreshedAt.set(id, Date.now());
    return ACTIVE_TTL_MS;
  }

  private logFailedAppend(event: CompletionEvent, error: unknown): void {
    this.options.logger.error({ err: error, completionId: event.completionId, index: event.index }, 'could not append a completion event to Redis');
  }

  /**
   * The terminal event goes right after the last entry. Should two
   * instances end the same log at once, Redis refuses the second XADD (its
   * entry id is no longer above the last), so the log still ends once.
   */
  async end(completion: Completion): Promise<void> {
    const key = this.eventsKey(completion.id);
    const [opened, last] = await this.transaction<[number, StreamEntry[]]>((multi) =>
      multi.exists(this.openKey(completion.id)).xrevrange(key, '+', '-', 'COUNT', 1),
    );
    const lastEvent = last[0] && decodeEntry(last[0]);
    if ((!lastEvent && opened === 0) || lastEvent?.done) return;
    const event = terminalEvent(completion, (lastEvent?.index ?? -1) + 1);
    try {
      await this.writer.xadd(key, entryIdOf(event.index), EVENT_FIELD, encodeEvent(event));
    } catch (error) {
      if (!/equal or smaller/i.test((error as Error).message)) throw error;
      return;
    }
    await this.writer.pexpire(key, this.retentionMs);
    await this.writer.pexpire(this.openKey(completion.id), this.retentionMs);
  }

  /**
   * The snapshot (last entry, and the entries above `after`) is taken in one
   * MULTI, so the cursor knows exactly where the stream stood; the shared
   * reader follows from there.
   */
  async read(completionId: string, after: number): Promise<AsyncIterableIterator<CompletionEvent> | undefined> {
    const key = this.eventsKey(completionId);
    const [opened, last, replay] = await this.transaction<[number, StreamEntry[], StreamEntry[]]>((multi) =>
      multi
        .exists(this.openKey(completionId))
        .xrevrange(key, '+', '-', 'COUNT', 1)
        .xrange(key, after < 0 ? '-' : `(${entryIdOf(after)}`, '+'),
    );
    const [lastEntry] = last;
    if (!lastEntry && opened === 0) return undefined;
    const lastEvent = lastEntry && decodeEntry(lastEntry);
    const cursor = new RedisEventCursor(key, after, Math.min(after, lastEvent?.index ?? -1), (c) => this.reader.unfollow(c));
    for (const entry of replay) cursor.offer(decodeEntry(entry));
    // Ended already, possibly below `after` (so not in the replay).
    if (lastEvent?.done) cursor.end();
    else this.reader.follow(cursor);
    return cursor;
  }

  async snapshot(completionId: string): Promise<CompletionEvent[] | undefined> {
    const [opened, entries] = await this.transaction<[number, StreamEntry[]]>((multi) =>
      multi.exists(this.openKey(completionId)).xrange(this.eventsKey(completionId), '-', '+'),
    );
    if (entries.length === 0 && opened === 0) return undefined;
    return entries.map(decodeEntry);
  }

  private async transaction<T extends unknown[]>(build: (multi: ChainableCommander) => ChainableCommander): Promise<T> {
    const results = await build(this.writer.multi()).exec();
    if (!results) throw new Error('a Redis transaction was aborted');
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as T;
  }

  /** Resolves when Redis answers; for readiness checks. */
  async ping(): Promise<void> {
    if (this.writer.status !== 'ready') throw new Error(`Redis connection is ${this.writer.status}`);
    await this.writer.ping();
  }

  /** Ends local readers, then sends what is still queued and disconnects. */
  async close(): Promise<void> {
    await this.reader.close();
    await this.writer.quit();
  }
}
