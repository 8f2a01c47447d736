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

/** What the append script answers. */
const APPENDED = 1;
const REFUSED = 0;
const DUPLICATE = 2;
type AppendOutcome = typeof APPENDED | typeof REFUSED | typeof DUPLICATE;

/**
 * Appends one event, atomically with the check that the log has not ended:
 * the open key reads `ended` once the terminal event is in, and every later
 * append is refused (REFUSED), so nothing is delivered after the end and an
 * owner that lost its completion learns it. An id not above the last (an
 * append resent after a reconnect, or a race to end the log) is DUPLICATE.
 * KEYS: the events stream, the open key. ARGV: entry id, encoded event,
 * '1' for the terminal event, the TTL in ms to set (0: none).
 */
const APPEND_SCRIPT = `
if redis.call('GET', KEYS[2]) == 'ended' then return ${REFUSED} end
local added = redis.pcall('XADD', KEYS[1], ARGV[1], '${EVENT_FIELD}', ARGV[2])
if type(added) == 'table' and added.err then
  if string.find(added.err, 'equal or smaller', 1, true) then return ${DUPLICATE} end
  return added
end
local ttl = tonumber(ARGV[4])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], 'ended', 'PX', ttl)
elseif ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return ${APPENDED}`;

type EventWriter = Redis & {
  appendCompletionEvent(eventsKey: string, openKey: string, id: string, event: string, terminal: '0' | '1', ttlMs: number): Promise<AppendOutcome>;
};

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
 *   <prefix>completion:{id}:open    set at open, so a completion with no event yet is known;
 *                                   `ended` once the terminal event is in (no append after it)
 * Both live ACTIVE_TTL_MS while the completion runs and the retention after
 * its terminal event.
 *
 * Appending is one script (the XADD and the check that the log has not
 * ended), sent without waiting (ioredis pipelines what one turn of the
 * event loop sends, and one connection keeps the order); only the owner
 * appends a completion it runs, and a sweeper its terminal event. Reading replays with XRANGE,
 * then follows through the process's SharedStreamReader: one blocking
 * connection for all subscribers.
 */
export class RedisEventLog implements CompletionEventLog {
  /** When this process last set the TTL of a running completion's keys. */
  private readonly refreshedAt = new Map<string, number>();
  private readonly lostHandlers = new Set<(completionId: string) => void>();
  private readonly retentionMs: number;

  private constructor(
    private readonly writer: EventWriter,
    private readonly reader: SharedStreamReader,
    private readonly options: RedisEventLogOptions,
  ) {
    this.retentionMs = Math.max(options.retentionMs, MIN_RETENTION_MS);
  }

  static async connect(options: RedisEventLogOptions): Promise<RedisEventLog> {
    const { url, keyPrefix, logger } = options;
    // No limit on retries: while Redis is away, appends wait in ioredis's
    // queue and go out, in order, when it is back, however long that takes
    // (a completion's events are bounded by its maxTokens and time bound).
    const writer = await connectRedis(url, `${keyPrefix}events-writer`, logger, { enableAutoPipelining: true, maxRetriesPerRequest: null });
    writer.defineCommand('appendCompletionEvent', { numberOfKeys: 2, lua: APPEND_SCRIPT });
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
    return new RedisEventLog(writer as EventWriter, new SharedStreamReader(blocking, writer, logger), options);
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
    // Not awaited: what one turn of the event loop sends leaves in one write
    // (auto-pipelining), in order, on this one connection.
    void this.appendOnce(event).then(
      (outcome) => {
        if (outcome === REFUSED) for (const handler of this.lostHandlers) handler(event.completionId);
      },
      (error: unknown) => this.options.logger.error({ err: error, completionId: event.completionId, index: event.index }, 'could not append a completion event to Redis'),
    );
  }

  onLost(handler: (completionId: string) => void): void {
    this.lostHandlers.add(handler);
  }

  private appendOnce(event: CompletionEvent): Promise<AppendOutcome> {
    const id = event.completionId;
    const ttl = this.ttlToSet(event) ?? 0;
    return this.writer.appendCompletionEvent(this.eventsKey(id), this.openKey(id), entryIdOf(event.index), encodeEvent(event), event.done ? '1' : '0', ttl);
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

  /**
   * The terminal event goes right after the last entry. Another process may
   * append meanwhile (the owner that looked dead but is not): its entry takes
   * the id, this one comes back as a duplicate and goes after it. Once the
   * terminal event is in, the script refuses every later append, so the log
   * ends once, on every instance.
   */
  async end(completion: Completion): Promise<void> {
    const key = this.eventsKey(completion.id);
    for (;;) {
      const [opened, last] = await this.transaction<[number, StreamEntry[]]>((multi) =>
        multi.exists(this.openKey(completion.id)).xrevrange(key, '+', '-', 'COUNT', 1),
      );
      const lastEvent = last[0] && decodeEntry(last[0]);
      if ((!lastEvent && opened === 0) || lastEvent?.done) return;
      if ((await this.appendOnce(terminalEvent(completion, (lastEvent?.index ?? -1) + 1))) !== DUPLICATE) return;
    }
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
