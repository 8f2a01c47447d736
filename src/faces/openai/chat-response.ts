import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { CompletionEvent } from '../../domain/completions/completion-event.js';
import type { Completion } from '../../domain/completions/completion-record.js';
import { formatMoney } from '../../domain/money.js';
import { OpenAIHttpError, retryAfterHeader } from './openai-errors.js';

// A stored completion and its events in OpenAI's shapes. The response id is
// the completion id, so a REST caller can look the completion up over GraphQL.

/**
 * OpenAI's usage plus what the gateway charged for it and whether the counts
 * are estimates. prompt_tokens include the cached ones, as OpenAI counts;
 * `prompt_tokens_details.cache_write_tokens` (the name OpenRouter-style
 * servers use) counts prompt tokens written to the cache.
 */
export type GatewayUsage = CompletionUsage & {
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  cost: string;
  estimated: boolean;
};

function usageOf(c: Completion): GatewayUsage | undefined {
  if (c.promptTokens === null || c.completionTokens === null) return undefined;
  return {
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.promptTokens + c.completionTokens,
    prompt_tokens_details: { cached_tokens: c.cachedPromptTokens ?? 0, cache_write_tokens: c.cacheWriteTokens ?? 0 },
    cost: formatMoney(c.cost ?? 0n),
    estimated: c.usageEstimated ?? false,
  };
}

const createdOf = (c: Completion) => Math.floor(c.createdAt.getTime() / 1000);

// The upstream may end without a finish_reason; the gateway then settles the
// completion as a success, which OpenAI calls `stop`.
const finishReasonOf = (c: Completion) => (c.finishReason ?? 'stop') as ChatCompletion.Choice['finish_reason'];

/** The non-streaming answer for a SUCCEEDED completion. */
export function chatCompletionOf(c: Completion): ChatCompletion {
  const toolCalls = c.toolCalls as ChatCompletionMessageToolCall[] | null;
  const message: ChatCompletion.Choice['message'] = {
    role: 'assistant',
    // OpenAI sends null content on a turn that only calls tools.
    content: toolCalls && c.content === '' ? null : c.content,
    refusal: null,
  };
  if (toolCalls) message.tool_calls = toolCalls;
  return {
    id: c.id,
    object: 'chat.completion',
    created: createdOf(c),
    model: c.modelId,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOf(c) }],
    usage: usageOf(c),
  };
}

/** The `chat.completion.chunk`s of one streamed completion, in order. */
export class ChunkStream {
  constructor(
    private readonly completion: Completion,
    /** With stream_options.include_usage every chunk has `usage` (null until the last). */
    private readonly includeUsage: boolean,
  ) {}

  get id(): string {
    return this.completion.id;
  }

  private chunk(choices: ChatCompletionChunk['choices'], usage: GatewayUsage | null = null): ChatCompletionChunk {
    const chunk: ChatCompletionChunk = {
      id: this.completion.id,
      object: 'chat.completion.chunk',
      created: createdOf(this.completion),
      model: this.completion.modelId,
      choices,
    };
    if (this.includeUsage) chunk.usage = usage;
    return chunk;
  }

  /** Sent at once, before the first token, as OpenAI does. */
  role(): ChatCompletionChunk {
    return this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  }

  delta(event: CompletionEvent): ChatCompletionChunk {
    const delta: ChatCompletionChunk.Choice['delta'] = {};
    if (event.delta) delta.content = event.delta;
    if (event.toolCallDeltas) delta.tool_calls = event.toolCallDeltas as ChatCompletionChunk.Choice.Delta.ToolCall[];
    return this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
  }

  /** The chunks that end a SUCCEEDED completion: its finish_reason, then usage when asked for. */
  end(settled: Completion): ChatCompletionChunk[] {
    const finish = this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReasonOf(settled) }]);
    const usage = this.includeUsage ? usageOf(settled) : undefined;
    return usage ? [finish, this.chunk([], usage)] : [finish];
  }
}

/**
 * The error a completion that did not succeed answers with: as the response
 * of a non-streaming request, or as the last event of a stream. Each names
 * the completion; the domain's reason says what, if anything, was charged.
 */
export function terminalErrorOf(c: Completion): OpenAIHttpError {
  const code = (c.errorCode ?? c.status).toLowerCase();
  const reason = c.errorMessage ?? 'no reason was recorded';
  if (c.status === 'FAILED') {
    const message = `Completion ${c.id} failed upstream and nothing was charged: ${reason}`;
    // The upstream's 429 outlived the gateway's own retries: the caller's
    // SDK waits its retry-after rather than retrying at once, as on a 502.
    if (c.errorCode === 'UPSTREAM_RATE_LIMITED') return new OpenAIHttpError(429, message, 'upstream_error', 'rate_limit_exceeded', null, retryAfterHeader(c.errorRetryAfterSeconds));
    if (c.errorCode === 'UPSTREAM_REFUSED') return new OpenAIHttpError(400, message, 'invalid_request_error', code, null, { 'x-should-retry': 'false' });
    return new OpenAIHttpError(502, message, 'upstream_error', code);
  }
  if (c.status === 'CANCELLED' && c.errorCode !== 'SHUTDOWN') {
    // Somebody cancelled it on purpose (cancelCompletion); a retry would undo that.
    return new OpenAIHttpError(409, `Completion ${c.id} was cancelled before it finished (${reason}); it was charged only for what was generated`, 'invalid_request_error', code, null, {
      'x-should-retry': 'false',
    });
  }
  // Stopped by a server shutdown (SHUTDOWN), a dead process or its time bound (INTERRUPTED): worth retrying.
  return new OpenAIHttpError(503, `Completion ${c.id} was stopped before it finished (${reason}); retry it`, 'server_error', code);
}
