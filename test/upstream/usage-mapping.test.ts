import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { toUpstreamChunk } from '../../src/upstream/openai-mapping.js';

// The usage chunk as OpenAI-compatible servers send it, with the prompt-cache
// counts in each of the places they are known to put them.
const usageChunk = (usage: Record<string, unknown>) =>
  toUpstreamChunk({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage } as unknown as ChatCompletionChunk);

describe('prompt-cache counts in upstream usage', () => {
  it('reads cache reads from prompt_tokens_details.cached_tokens (OpenAI) and writes from cache_write_tokens beside it', () => {
    expect(usageChunk({ prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 30 } })?.usage).toEqual({
      promptTokens: 100,
      completionTokens: 5,
      cachedPromptTokens: 60,
      cacheWriteTokens: 30,
    });
  });

  it('reads Anthropic-style top-level cache_read_input_tokens and cache_creation_input_tokens', () => {
    expect(usageChunk({ prompt_tokens: 100, completion_tokens: 5, cache_read_input_tokens: 40, cache_creation_input_tokens: 50 })?.usage).toMatchObject({
      cachedPromptTokens: 40,
      cacheWriteTokens: 50,
    });
  });

  it('counts no cache tokens when the upstream reports none', () => {
    expect(usageChunk({ prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: null })?.usage).toMatchObject({ cachedPromptTokens: 0, cacheWriteTokens: 0 });
  });

  const implausible: [string, Record<string, unknown>][] = [
    ['negative cached tokens', { prompt_tokens_details: { cached_tokens: -1 } }],
    ['fractional cache writes', { cache_creation_input_tokens: 2.5 }],
    ['cached tokens as text', { prompt_tokens_details: { cached_tokens: '10' } }],
    ['reads and writes beyond prompt_tokens', { prompt_tokens_details: { cached_tokens: 70, cache_write_tokens: 31 } }],
  ];
  for (const [what, counts] of implausible) {
    it(`takes usage with ${what} as no usage at all`, () => {
      expect(usageChunk({ prompt_tokens: 100, completion_tokens: 5, ...counts })).toBeUndefined();
    });
  }
});
