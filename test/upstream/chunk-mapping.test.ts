import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { toUpstreamChunk } from '../../src/upstream/openai-mapping.js';

// What of an upstream chunk reaches the gateway: the upstream is not trusted
// to send only what was asked for.
const chunkOf = (choices: unknown[]) => toUpstreamChunk({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices } as unknown as ChatCompletionChunk);

describe('an upstream chunk', () => {
  it('is read from choice 0 only: another choice is not spliced into the answer', () => {
    const chunk = chunkOf([
      { index: 1, delta: { content: 'other choice', tool_calls: [{ index: 0, id: 'call_other', function: { name: 'rm_rf', arguments: '{}' } }] }, finish_reason: 'tool_calls' },
      { index: 0, delta: { content: 'the answer' }, finish_reason: null },
    ]);
    expect(chunk).toEqual({ contentDelta: 'the answer', toolCallDeltas: undefined, finishReason: undefined, usage: undefined });
  });

  it('that carries only another choice carries nothing', () => {
    expect(chunkOf([{ index: 1, delta: { content: 'other choice' }, finish_reason: 'stop' }])).toBeUndefined();
  });

  it('says why it finished in the words of the contract, whatever words the upstream used', () => {
    const reasons = ['stop', 'length', 'tool_calls', 'content_filter', 'end_turn', 'max_tokens', 'tool_use', 'stop_sequence', 'something_new'];
    expect(reasons.map((reason) => chunkOf([{ index: 0, delta: {}, finish_reason: reason }])?.finishReason)).toEqual([
      'stop',
      'length',
      'tool_calls',
      'content_filter',
      'stop',
      'length',
      'tool_calls',
      'stop',
      'stop',
    ]);
  });

  it('passes on only the fields of a tool-call delta that the gateway knows', () => {
    const chunk = chunkOf([
      { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', junk: 'x'.repeat(1000), function: { name: 'get', arguments: '{', extra: 1 } }] } },
    ]);
    expect(chunk?.toolCallDeltas).toEqual([{ index: 0, id: 'call_1', type: 'function', function: { name: 'get', arguments: '{' } }]);
  });
});
