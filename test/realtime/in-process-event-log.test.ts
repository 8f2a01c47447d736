import { describe, expect, it } from 'vitest';
import { terminalEvent, type CompletionEvent } from '../../src/domain/completions/completion-event.js';
import type { Completion } from '../../src/domain/completions/completion-record.js';
import { InProcessEventLog } from '../../src/realtime/in-process-event-log.js';

const ID = 'c-1';
const delta = (index: number): CompletionEvent => ({ completionId: ID, index, delta: `t${index} `, toolCallDeltas: null, outputTokens: index + 1, cost: 0n, done: false, completion: null });
const settled = { id: ID, status: 'SUCCEEDED' } as Completion;

async function readAll(iterator: AsyncIterableIterator<CompletionEvent>): Promise<number[]> {
  const indexes: number[] = [];
  for await (const event of { [Symbol.asyncIterator]: () => iterator }) indexes.push(event.index);
  return indexes;
}

describe('the in-process event log', () => {
  it('keeps a finished log while a reader is still on it', async () => {
    const log = new InProcessEventLog();
    await log.open(ID);
    const reader = await log.read(ID, -1);
    log.append(delta(0));
    log.append(delta(1));
    log.append(terminalEvent(settled, 2));
    expect(await readAll(reader!)).toEqual([0, 1, 2]);
  });

  it("lets a finished log's events go once its last reader has left, so a later reader is served from Postgres", async () => {
    const log = new InProcessEventLog();
    await log.open(ID);
    const reader = await log.read(ID, -1);
    log.append(delta(0));
    log.append(terminalEvent(settled, 1));
    expect(await log.snapshot(ID)).toHaveLength(2);
    await readAll(reader!);
    expect(await log.read(ID, -1)).toBeUndefined();
    expect(await log.snapshot(ID)).toBeUndefined();
  });

  it('lets go at once the events of a log that ends with no reader', async () => {
    const log = new InProcessEventLog();
    await log.open(ID);
    log.append(delta(0));
    log.append(terminalEvent(settled, 1));
    expect(await log.read(ID, -1)).toBeUndefined();
  });

  it('still reports a completion lost when its run appends to a log that was ended and let go', async () => {
    const log = new InProcessEventLog();
    const lost: string[] = [];
    log.onLost((id) => lost.push(id));
    await log.open(ID);
    await log.end(settled);
    log.append(delta(0));
    expect(lost).toEqual([ID]);
  });
});
