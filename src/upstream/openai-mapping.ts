import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { UpstreamError, type ToolCallDelta, type UpstreamChunk, type UpstreamMessage, type UpstreamRequest, type UpstreamUsage } from '../domain/completions/upstream.js';

// Translation between the gateway's camelCase types and OpenAI's wire names.
// Optional fields left undefined disappear when the body is serialised
// (JSON.stringify). The openai package gives the wire types only.

function toMessageParam(message: UpstreamMessage): ChatCompletionMessageParam {
  // Content parts and tool calls were validated by the gateway; the wire
  // types' per-role unions cannot be proven from `unknown[]`.
  return {
    role: message.role,
    content: message.content,
    name: message.name,
    tool_call_id: message.toolCallId,
    tool_calls: message.toolCalls,
  } as unknown as ChatCompletionMessageParam;
}

export function toStreamingParams(request: UpstreamRequest): ChatCompletionCreateParamsStreaming {
  return {
    model: request.model,
    messages: request.messages.map(toMessageParam),
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    stop: request.stop,
    tools: request.tools as ChatCompletionCreateParamsStreaming['tools'],
    tool_choice: request.toolChoice as ChatCompletionCreateParamsStreaming['tool_choice'],
    response_format: request.responseFormat as ChatCompletionCreateParamsStreaming['response_format'],
    user: request.user,
    stream: true,
    stream_options: { include_usage: true },
  };
}

/**
 * The JSON of one `data:` line. A JSON.parse SyntaxError propagates (the
 * caller classifies it as malformed); so does an `{ "error": … }` object,
 * which some servers send mid-stream, as an UpstreamError.
 */
export function parseChunk(data: string): ChatCompletionChunk {
  const value: unknown = JSON.parse(data);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UpstreamError('malformed', `The upstream sent a chunk that is not a JSON object: ${data.slice(0, 100)}`);
  }
  const error = (value as { error?: unknown }).error;
  if (error !== undefined && error !== null) {
    const message = (error as { message?: unknown }).message;
    const detail = typeof message === 'string' ? message : JSON.stringify(error);
    throw new UpstreamError('http', `The upstream reported an error in the stream: ${detail}`);
  }
  return value as ChatCompletionChunk;
}

/**
 * The part of an OpenAI chunk the gateway uses, or undefined when the chunk
 * carries none of it (the role-only first chunk, keep-alive chunks).
 * Always the same object shape, so this hot path stays monomorphic.
 */
export function toUpstreamChunk(chunk: ChatCompletionChunk): UpstreamChunk | undefined {
  // Servers differ: `choices` may be empty or absent on the usage chunk,
  // `usage` may be null on every other chunk or missing entirely.
  // The gateway asks for one choice; another one's text or tool calls
  // must not be spliced into the answer.
  let choice = chunk.choices?.[0];
  if (choice !== undefined && choice.index !== undefined && choice.index !== 0) choice = chunk.choices.find((c) => c.index === 0);
  const delta = choice?.delta;
  const contentDelta = delta?.content || undefined;
  const wireToolCalls: unknown = delta?.tool_calls?.length ? delta.tool_calls : undefined;
  const wireFinishReason: unknown = choice?.finish_reason || undefined;
  assertChunkShape(contentDelta, wireToolCalls, wireFinishReason);
  const finishReason = wireFinishReason === undefined ? undefined : finishReasonOf(wireFinishReason as string);
  const toolCallDeltas = wireToolCalls === undefined ? undefined : (wireToolCalls as WireToolCall[]).map(toolCallDeltaOf);
  const usage = usageOf(chunk.usage);
  if (contentDelta === undefined && toolCallDeltas === undefined && finishReason === undefined && usage === undefined) {
    return undefined;
  }
  return { contentDelta, toolCallDeltas, finishReason, usage };
}

/** The finish reasons of the contract; servers that speak Anthropic's words underneath send those. */
const FINISH_REASONS: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  function_call: 'tool_calls',
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** One of stop, length, tool_calls or content_filter: an unknown reason is taken as a plain stop. */
function finishReasonOf(reason: string): string {
  return Object.hasOwn(FINISH_REASONS, reason) ? (FINISH_REASONS[reason] as string) : 'stop';
}

interface WireToolCall {
  index: number;
  id?: string | null;
  type?: unknown;
  function?: { name?: string | null; arguments?: string | null };
}

/**
 * Only the fields of a tool-call delta that the gateway knows: whatever
 * else an upstream adds is neither passed to clients nor stored.
 */
function toolCallDeltaOf(call: WireToolCall): ToolCallDelta {
  const delta: ToolCallDelta = { index: call.index };
  if (typeof call.id === 'string') delta.id = call.id;
  if (call.type === 'function' || call.type === 'custom') delta.type = call.type;
  const fn = call.function;
  if (fn) {
    delta.function = {};
    if (typeof fn.name === 'string') delta.function.name = fn.name;
    if (typeof fn.arguments === 'string') delta.function.arguments = fn.arguments;
  }
  return delta;
}

/** Usage as OpenAI-compatible servers report prompt caching: inside prompt_tokens_details, or at the top level. */
interface WireUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null;
  cache_read_input_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
}

/**
 * The usage a chunk reports, or undefined when it reports none that can be
 * trusted. A count that is not a plausible token count (negative,
 * fractional, beyond what a column holds), or cache counts that do not fit
 * inside prompt_tokens (which include them), make the whole usage absent:
 * the gateway then charges its marked estimate, so an upstream's nonsense
 * can neither lower nor raise a bill absurdly.
 */
function usageOf(usage: WireUsage | null | undefined): UpstreamUsage | undefined {
  if (!usage || !isTokenCount(usage.prompt_tokens) || !isTokenCount(usage.completion_tokens)) return undefined;
  const cachedPromptTokens = usage.prompt_tokens_details?.cached_tokens ?? usage.cache_read_input_tokens ?? 0;
  const cacheWriteTokens = usage.cache_creation_input_tokens ?? usage.prompt_tokens_details?.cache_write_tokens ?? 0;
  if (!isTokenCount(cachedPromptTokens) || !isTokenCount(cacheWriteTokens)) return undefined;
  if (cachedPromptTokens + cacheWriteTokens > usage.prompt_tokens) return undefined;
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, cachedPromptTokens, cacheWriteTokens };
}

/**
 * The upstream is not trusted: a chunk whose fields have the wrong types
 * fails the stream as malformed here, before the gateway acts on it. (What
 * is plausible in size or number is the domain's to judge.)
 */
function assertChunkShape(content: unknown, toolCalls: unknown, finishReason: unknown): void {
  const malformed = (what: string) => new UpstreamError('malformed', `The upstream sent a chunk whose ${what}.`);
  if (content !== undefined && typeof content !== 'string') throw malformed('content is not a string');
  if (finishReason !== undefined && (typeof finishReason !== 'string' || !/^[a-z_]{1,64}$/.test(finishReason))) {
    throw malformed('finish_reason is not a short lowercase word');
  }
  if (toolCalls === undefined) return;
  if (!Array.isArray(toolCalls)) throw malformed('tool_calls is not an array');
  for (const call of toolCalls as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
    if (typeof call !== 'object' || call === null || !Number.isInteger(call.index) || (call.index as number) < 0) {
      throw malformed('tool call has no index');
    }
    const { id, function: fn } = call;
    if ((id !== undefined && id !== null && typeof id !== 'string') || (fn !== undefined && (typeof fn !== 'object' || fn === null))) {
      throw malformed('tool call has an id or function of the wrong type');
    }
    for (const text of [fn?.name, fn?.arguments]) {
      if (text !== undefined && text !== null && typeof text !== 'string') throw malformed('tool call function has a name or arguments that are not strings');
    }
  }
}

const MAX_TOKEN_COUNT = 2 ** 31 - 1;

function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT;
}
