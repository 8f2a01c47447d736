// Server-Sent Event lines in OpenAI's chat.completion.chunk format. The part
// of each chunk that never changes within a response is serialised once, so
// a token costs one small JSON.stringify of its delta.

export interface ChunkEnvelope {
  id: string;
  /** undefined leaves `created` out (the omitCreated quirk). */
  created: number | undefined;
  model: string;
  /** OpenAI sends `"usage":null` on every chunk but the last when include_usage is set. */
  usageNull: boolean;
}

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt caching, as OpenAI (cached_tokens) and OpenRouter-style servers (cache_write_tokens) report it. */
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number };
  /** Cache writes, as Anthropic-compatible servers name them at the top level. */
  cache_creation_input_tokens?: number;
}

export interface ChunkEncoder {
  /** A chunk with one choice; `deltaJson` is the serialised delta. */
  choice(deltaJson: string, finishReason: string | null): string;
  /** The trailing usage chunk, with `choices: []`. */
  usage(usage: WireUsage): string;
}

export const DONE_LINE = 'data: [DONE]\n\n';
export const ROLE_DELTA_JSON = '{"role":"assistant","content":""}';
export const EMPTY_DELTA_JSON = '{}';

export function createChunkEncoder(envelope: ChunkEnvelope): ChunkEncoder {
  const head =
    `data: {"id":${JSON.stringify(envelope.id)},"object":"chat.completion.chunk"` +
    (envelope.created === undefined ? '' : `,"created":${envelope.created}`) +
    `,"model":${JSON.stringify(envelope.model)}`;
  const choiceHead = `${head},"choices":[{"index":0,"delta":`;
  const tail = `}]${envelope.usageNull ? ',"usage":null' : ''}}\n\n`;
  return {
    choice: (deltaJson, finishReason) => {
      const finish = finishReason === null ? 'null' : JSON.stringify(finishReason);
      return `${choiceHead}${deltaJson},"logprobs":null,"finish_reason":${finish}${tail}`;
    },
    usage: (usage) => `${head},"choices":[],"usage":${JSON.stringify(usage)}}\n\n`,
  };
}
