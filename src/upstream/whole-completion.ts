import type { ChatCompletion } from 'openai/resources/chat/completions';
import { toUpstreamChunk } from './openai-mapping.js';
import { UpstreamError, type UpstreamChunk } from '../domain/completions/upstream.js';

/**
 * Some OpenAI-compatible servers ignore `stream: true` and answer one
 * `chat.completion` JSON object. Its message is the same output as a stream
 * would carry: one chunk with all the text, the tool calls, the finish
 * reason and the usage.
 */
export function chunkOfWholeCompletion(body: string): UpstreamChunk {
  let completion: ChatCompletion;
  try {
    completion = JSON.parse(body) as ChatCompletion;
  } catch {
    throw new UpstreamError('malformed', 'The upstream answered JSON that does not parse.');
  }
  const choice = completion.choices?.[0];
  if (!choice?.message || !choice.finish_reason) {
    throw new UpstreamError('malformed', 'The upstream answered a JSON object that is not a chat completion.');
  }
  const chunk = toUpstreamChunk({
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    choices: [
      {
        index: 0,
        delta: {
          content: choice.message.content,
          tool_calls: choice.message.tool_calls?.map((call, index) => ({ index, ...call })) as never,
        },
        finish_reason: choice.finish_reason,
      },
    ],
    usage: completion.usage,
  });
  if (!chunk) throw new UpstreamError('malformed', 'The upstream answered an empty chat completion.');
  return chunk;
}
