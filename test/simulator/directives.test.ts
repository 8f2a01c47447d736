import { describe, expect, it } from 'vitest';
import { parseDirectives } from '../../src/simulator/directives.js';
import { collect, failureOf, simulatorPerTest, streamFrom, textOf } from '../upstream/harness.js';

const simulator = simulatorPerTest();
const stream = (content: string, timeouts = {}) => streamFrom(simulator.current, content, {}, timeouts);

describe('simulator directives', () => {
  it('reads every item of every directive and removes them from the text', () => {
    expect(parseDirectives('Tell me [sim:fault=reset,after=3] a story [sim:noUsage]')).toEqual({
      script: { fault: 'reset', afterTokens: 3, noUsage: true },
      text: 'Tell me a story',
    });
  });

  it('resets the connection after the given number of tokens with [sim:fault=reset,after=3]', async () => {
    const { error, chunks } = await failureOf(stream('Tell me a story [sim:fault=reset,after=3]'));
    expect(error.kind).toBe('network');
    expect(chunks.filter((chunk) => chunk.contentDelta)).toHaveLength(3);
  });

  it('sends no usage with [sim:noUsage]', async () => {
    const chunks = await collect(stream('Hi [sim:noUsage]'));
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(chunks.at(-1)?.finishReason).toBe('stop');
  });

  it('answers with exactly N tokens with [sim:words=N]', async () => {
    const chunks = await collect(stream('Hi [sim:words=7]'));
    expect(chunks.filter((chunk) => chunk.contentDelta)).toHaveLength(7);
  });

  it('derives the answer from the text without the directive', async () => {
    const chunks = await collect(stream('What is 2+2? [sim:omitCreated]'));
    expect(textOf(chunks)).toContain('"What is 2+2?"');
    expect(textOf(chunks)).not.toContain('[sim:');
  });

  it('replaces the finish_reason with [sim:finish=content_filter]', async () => {
    const chunks = await collect(stream('Hi [sim:finish=content_filter]'));
    expect(chunks.find((chunk) => chunk.finishReason)?.finishReason).toBe('content_filter');
  });

  it('stalls until the client gives up with [sim:fault=stall,after=1]', async () => {
    const { error } = await failureOf(stream('Hi [sim:fault=stall,after=1]', { idleTimeoutMs: 100 }));
    expect(error.kind).toBe('timeout');
    expect(await simulator.current.requests[0]?.finished).toBe('client-closed');
  });

  it('answers 400 explaining the syntax for an unknown directive', async () => {
    const { error } = await failureOf(stream('Hi [sim:fault=explode]'));
    expect(error).toMatchObject({ kind: 'refused', status: 400 });
    expect(error.message).toContain('http500, http429, reset, malformed, stall');
  });

  it('lets a script queued with enqueue() win over a directive', async () => {
    simulator.current.enqueue({ text: 'scripted' });
    expect(textOf(await collect(stream('Hi [sim:words=3]')))).toBe('scripted');
  });
});
