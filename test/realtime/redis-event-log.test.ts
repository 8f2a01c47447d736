import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { CompletionEvent } from '../../src/domain/completions/completion-event.js';
import { RedisEventLog } from '../../src/realtime/redis-event-log.js';
import { deleteKeys, redisUrl, testKeyPrefix } from '../helpers/redis.js';

// Two logs on one Redis stand for two instances: `producer` appends as the
// instance running a completion does, `consumer` reads as any other does.
const keyPrefix = testKeyPrefix();
const logger = createLogger({ logLevel: 'silent' });
let producer: RedisEventLog;
let consumer: RedisEventLog;
let redis: Redis;

beforeAll(async () => {
  const options = { url: redisUrl, keyPrefix, retentionMs: 60_000, logger };
  [producer, consumer] = await Promise.all([RedisEventLog.connect(options), RedisEventLog.connect(options)]);
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  await Promise.all([producer?.close(), consumer?.close()]);
  redis?.disconnect();
  await deleteKeys(keyPrefix);
});

function event(completionId: string, index: number, done = false): CompletionEvent {
  return { completionId, index, delta: done ? '' : `t${index} `, toolCallDeltas: null, outputTokens: index, cost: BigInt(index) * 10n ** 12n, done, completion: null };
}

async function opened(): Promise<string> {
  const id = randomUUID();
  await producer.open(id);
  return id;
}

async function drain(iterator: AsyncIterableIterator<CompletionEvent> | undefined): Promise<CompletionEvent[]> {
  if (!iterator) throw new Error('the log does not know this completion');
  const events: CompletionEvent[] = [];
  for await (const e of { [Symbol.asyncIterator]: () => iterator }) events.push(e);
  return events;
}

/** Closes, server side, this file's connections of one kind (both logs'). */
async function killConnections(kind: string): Promise<void> {
  const list = (await redis.client('LIST')) as string;
  const ids = [...list.matchAll(/^id=(\d+) .* name=(\S+)/gm)].filter((m) => m[2] === `${keyPrefix}${kind}`).map((m) => m[1] as string);
  expect(ids).toHaveLength(2);
  for (const clientId of ids) await redis.client('KILL', 'ID', clientId);
}

const indexes = (events: CompletionEvent[]) => events.map((e) => e.index);
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Redis event log across instances', () => {
  it('replays what was appended on another instance, then follows it live to the terminal event', async () => {
    const id = await opened();
    for (let i = 0; i < 3; i++) producer.append(event(id, i));
    await tick();
    const reading = drain(await consumer.read(id, -1));
    for (let i = 3; i < 8; i++) {
      producer.append(event(id, i));
      await tick();
    }
    producer.append(event(id, 8, true));
    const events = await reading;
    expect(indexes(events)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.at(-1)?.done).toBe(true);
    expect(events[5]).toEqual(event(id, 5));
  });

  it('gives a reader attached after the end every event, and one with after=k exactly those above k', async () => {
    const id = await opened();
    for (let i = 0; i < 5; i++) producer.append(event(id, i));
    producer.append(event(id, 5, true));
    await tick();
    expect(indexes(await drain(await consumer.read(id, -1)))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(indexes(await drain(await consumer.read(id, 2)))).toEqual([3, 4, 5]);
  });

  it('ends a reader that asked for more than exists once the terminal event is appended, without handing it out', async () => {
    const id = await opened();
    producer.append(event(id, 0));
    const reading = drain(await consumer.read(id, Number.MAX_SAFE_INTEGER - 1));
    await tick();
    producer.append(event(id, 1, true));
    expect(await reading).toEqual([]);
    expect(await drain(await consumer.read(id, 1))).toEqual([]);
  });

  it('knows an opened completion with no event yet, and nothing of one never opened', async () => {
    const id = await opened();
    expect(await consumer.snapshot(id)).toEqual([]);
    const reading = drain(await consumer.read(id, -1));
    producer.append(event(id, 0, true));
    expect(indexes(await reading)).toEqual([0]);
    expect(await consumer.read(randomUUID(), -1)).toBeUndefined();
    expect(await consumer.snapshot(randomUUID())).toBeUndefined();
  });

  it('stores an event appended twice once', async () => {
    const id = await opened();
    producer.append(event(id, 0));
    producer.append(event(id, 0));
    producer.append(event(id, 1, true));
    await tick();
    expect(indexes((await consumer.snapshot(id)) ?? [])).toEqual([0, 1]);
  });

  it('keeps an ended stream for the retention, then lets it expire', async () => {
    const id = await opened();
    producer.append(event(id, 0, true));
    await tick();
    const ttl = await redis.pttl(`${keyPrefix}completion:{${id}}:events`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('resumes after its Redis connections drop mid-stream, without a gap or a repeat', async () => {
    const id = await opened();
    producer.append(event(id, 0));
    const reading = drain(await consumer.read(id, -1));
    await tick();
    await killConnections('events-reader');
    producer.append(event(id, 1));
    await killConnections('events-writer');
    for (let i = 2; i < 5; i++) producer.append(event(id, i));
    producer.append(event(id, 5, true));
    expect(indexes(await reading)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses every append after the terminal event, and tells the producer it lost the completion', async () => {
    const id = await opened();
    const lost: string[] = [];
    producer.onLost((completionId) => lost.push(completionId));
    producer.append(event(id, 0));
    await tick();
    // Another instance ends it (its owner looked dead)…
    await consumer.end({ id, completionTokens: 0, cost: 0n, status: 'INTERRUPTED' } as never);
    // …and the owner, awake again, goes on.
    producer.append(event(id, 2));
    producer.append(event(id, 3, true));
    await expect.poll(() => lost.filter((l) => l === id).length).toBe(2);
    const events = await drain(await consumer.read(id, -1));
    expect(events.map((e) => [e.index, e.done])).toEqual([
      [0, false],
      [1, true],
    ]);
  });

  it('ends a log once when the owner appends while another instance ends it', async () => {
    const id = await opened();
    for (let i = 0; i < 50; i++) producer.append(event(id, i));
    await consumer.end({ id, completionTokens: 0, cost: 0n, status: 'INTERRUPTED' } as never);
    for (let i = 50; i < 60; i++) producer.append(event(id, i));
    await tick();
    const events = await drain(await consumer.read(id, -1));
    expect(events.filter((e) => e.done)).toHaveLength(1);
    expect(events.at(-1)?.done).toBe(true);
    expect(indexes(events)).toEqual(events.map((_, i) => i));
  });

  it('serves a thousand idle subscribers over one blocking connection, and wakes each with its next event', async () => {
    const ids = await Promise.all(Array.from({ length: 100 }, opened));
    const readers = await Promise.all(Array.from({ length: 1000 }, (_, i) => consumer.read(ids[i % ids.length] as string, -1)));
    const readings = readers.map(drain);
    // One reader connection per log, i.e. per instance, here two.
    const clients = (await redis.client('LIST')) as string;
    expect(clients.split('\n').filter((line) => line.includes(` name=${keyPrefix}events-reader `))).toHaveLength(2);
    for (const id of ids) producer.append(event(id, 0, true));
    const results = await Promise.all(readings);
    expect(results.every((events) => indexes(events).join() === '0')).toBe(true);
  });
});
