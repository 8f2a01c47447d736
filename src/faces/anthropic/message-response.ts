import type { Completion } from '../../domain/completions/completion-record.js';
import type { ToolCall } from '../../domain/completions/tool-calls.js';
import { AnthropicHttpError, retryAfterHeader } from './anthropic-errors.js';

// A stored completion in Anthropic's Message shape. The message id is
// "msg_" + the completion id, so a caller can look it up over GraphQL.

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

/**
 * Anthropic's usage. Its input_tokens exclude the prompt tokens read from or
 * written to the cache, which it counts apart; the domain's promptTokens
 * (OpenAI's convention) include them.
 */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: (TextBlock | ToolUseBlock)[];
  stop_reason: StopReason;
  /** Always null: an OpenAI-style upstream says `stop` without saying which stop sequence, or whether one, ended the text. */
  stop_sequence: null;
  usage: AnthropicUsage;
}

export const messageIdOf = (c: Pick<Completion, 'id'>) => `msg_${c.id}`;

/** The usage of a settled completion; zeros before the upstream (or the estimate) gave any. */
export function usageOf(c: Completion): AnthropicUsage {
  const cacheRead = c.cachedPromptTokens ?? 0;
  const cacheWrite = c.cacheWriteTokens ?? 0;
  return {
    input_tokens: (c.promptTokens ?? 0) - cacheRead - cacheWrite,
    output_tokens: c.completionTokens ?? 0,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
  };
}

/**
 * The stop reason of a settled completion. A cut at max_tokens says so even
 * when a tool call was under way (its input is incomplete); otherwise any
 * tool call is tool_use, since some upstreams say `stop` after one and
 * callers test for tool_use. A content filter is Anthropic's refusal.
 */
export function stopReasonOf(c: Completion): StopReason {
  if (c.finishReason === 'length') return 'max_tokens';
  if (c.toolCalls) return 'tool_use';
  if (c.finishReason === 'content_filter') return 'refusal';
  return 'end_turn';
}

/**
 * A tool call's id as Anthropic allows ids (letters, digits, _ and -): the
 * upstream's, with anything else replaced, so the caller's tool_result
 * names it and the upstream sees the same id in the conversation it gets back.
 */
export function toolUseIdOf(upstreamId: string, completionId: string, index: number): string {
  const cleaned = upstreamId.replace(/[^A-Za-z0-9_-]/g, '_');
  return cleaned === '' ? `toolu_${completionId.replaceAll('-', '')}_${index}` : cleaned;
}

/**
 * A tool call's arguments as Anthropic's `input` object. Arguments that are
 * not a JSON object (an upstream that broke off, or a model that wrote bad
 * JSON) are kept as text under `_unparsed_arguments`, so the caller's tool
 * reports the problem back instead of running with nothing.
 */
function inputOf(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const input: unknown = JSON.parse(args);
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input as Record<string, unknown>;
  } catch {
    // Kept as text below.
  }
  return { _unparsed_arguments: args };
}

function toolUseBlocks(c: Completion): ToolUseBlock[] {
  return ((c.toolCalls as ToolCall[] | null) ?? []).map((call, i) => ({
    type: 'tool_use',
    id: toolUseIdOf(call.id, c.id, i),
    name: call.function.name,
    input: inputOf(call.function.arguments),
  }));
}

/** The non-streaming answer for a SUCCEEDED completion; `model` is the name the caller used. */
export function messageOf(c: Completion, model: string): AnthropicMessage {
  const content: AnthropicMessage['content'] = c.content === '' ? [] : [{ type: 'text', text: c.content }];
  content.push(...toolUseBlocks(c));
  return { id: messageIdOf(c), type: 'message', role: 'assistant', model, content, stop_reason: stopReasonOf(c), stop_sequence: null, usage: usageOf(c) };
}

/**
 * The error a completion that did not succeed answers with: the response of
 * a non-streaming request, or the `error` event that ends a stream. An
 * upstream 429 that outlived the gateway's retries is 429 rate_limit_error
 * with the upstream's retry-after, which the SDKs and Claude Code wait
 * before retrying; an upstream that timed out is 504 timeout_error; a
 * request the upstream refused as invalid is 400, not to be retried.
 */
export function terminalErrorOf(c: Completion): AnthropicHttpError {
  const reason = c.errorMessage ?? 'no reason was recorded';
  if (c.status === 'FAILED') {
    const message = `Completion ${c.id} failed upstream and nothing was charged: ${reason}`;
    if (c.errorCode === 'UPSTREAM_RATE_LIMITED') {
      return new AnthropicHttpError(429, 'rate_limit_error', message, c.errorRetryAfterSeconds === null ? {} : retryAfterHeader(c.errorRetryAfterSeconds));
    }
    if (c.errorCode === 'UPSTREAM_TIMEOUT') return new AnthropicHttpError(504, 'timeout_error', message);
    if (c.errorCode === 'UPSTREAM_REFUSED') return new AnthropicHttpError(400, 'invalid_request_error', message);
    return new AnthropicHttpError(502, 'api_error', message);
  }
  if (c.status === 'CANCELLED' && c.errorCode !== 'SHUTDOWN') {
    // Somebody cancelled it on purpose (cancelCompletion); a retry would undo that.
    return new AnthropicHttpError(409, 'invalid_request_error', `Completion ${c.id} was cancelled before it finished (${reason}); it was charged only for what was generated`);
  }
  // Stopped by a server shutdown (SHUTDOWN), a dead process or its time bound (INTERRUPTED): worth retrying.
  return new AnthropicHttpError(503, 'api_error', `Completion ${c.id} was stopped before it finished (${reason}); retry it`);
}
