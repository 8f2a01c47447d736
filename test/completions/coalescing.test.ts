import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Completion } from '../../src/domain/completions/completion-record.js';
import { LiveCompletion } from '../../src/domain/completions/live-completion.js';
import { InProcessEventLog } from '../../src/realtime/in-process-event-log.js';
import type { UpstreamRequest } from '../../src/domain/completions/upstream.js';

const request: UpstreamRequest = { model: 'anthropic/claude-haiku-4-5', messages: [{ role: 'user', content: 'Hi' }], maxTokens: 64 };

async function liveWithReader() {
  const events = new InProcessEventLog();
  const completion = { id: 'c-1', inputPricePerMillion: 1_000_000_000n, outputPricePerMillion: 5_000_000_000n } as Completion;
  await events.open(completion.id);
  const live = new LiveCompletion(completion, request, events);
  const reader = await events.read(completion.id, -1);
  if (!reader) throw new Error('no reader');
  return { events, live, reader };
}

/** Upstream tokens arriving one event-loop turn apart, as from separate network reads. */
async function tokensInSeparateTurns(live: LiveCompletion, tokens: string[]) {
  for (const token of tokens) {
    live.accept({ contentDelta: token });
    await nextTurn();
    await nextTurn();
  }
}

describe('a live completion', () => {
  it('publishes each token as its own event while its reader keeps up', async () => {
    const { live, reader } = await liveWithReader();
    const received: string[] = [];
    const reading = (async () => {
      for await (const event of { [Symbol.asyncIterator]: () => reader }) {
        received.push(event.delta);
        if (received.length === 3) break;
      }
    })();
    await nextTurn();
    await tokensInSeparateTurns(live, ['one', ' two', ' three']);
    await reading;
    expect(received).toEqual(['one', ' two', ' three']);
  });

  it('gathers what arrives while its reader is busy into one event with the next index', async () => {
    const { events, live, reader } = await liveWithReader();
    const first = reader.next();
    await tokensInSeparateTurns(live, ['one']);
    expect((await first).value).toMatchObject({ index: 0, delta: 'one' });
    // The reader is busy with event 0 (it has not asked for more) while three more tokens arrive.
    await tokensInSeparateTurns(live, [' two', ' three', ' four']);
    expect(await events.snapshot('c-1')).toHaveLength(1);
    expect((await reader.next()).value).toMatchObject({ index: 1, delta: ' two three four' });
    expect(live.storedLog.deltas).toEqual([3, 15]);
  });

  it('publishes held text after at most 100 ms when its reader stops reading', async () => {
    const { events, live, reader } = await liveWithReader();
    const first = reader.next();
    await tokensInSeparateTurns(live, ['one', ' two']);
    await first;
    await sleep(130);
    expect((await events.snapshot('c-1'))?.map((e) => e.delta).join('')).toBe('one two');
  });
});
