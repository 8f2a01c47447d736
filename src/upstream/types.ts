// The gateway's view of an OpenAI-compatible upstream, in camelCase and
// independent of the SDK, so the domain never imports `openai`.

export interface UpstreamMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** A string, OpenAI content parts (text, image_url, …), or null for an assistant turn that only calls tools. */
  content: string | unknown[] | null;
  name?: string;
  /** For role `tool`: the id of the call this message answers. */
  toolCallId?: string;
  /** For role `assistant`: OpenAI-style tool_calls it made. */
  toolCalls?: unknown[];
}

export interface UpstreamRequest {
  model: string;
  messages: UpstreamMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /** OpenAI `tools`, passed through as given. */
  tools?: unknown[];
  /** OpenAI `tool_choice`, passed through as given. */
  toolChoice?: unknown;
  /** OpenAI `response_format`, passed through as given. */
  responseFormat?: unknown;
  user?: string;
}

/**
 * OpenAI's streamed tool_call delta, as received: the first one of a call
 * carries id, type and name. The gateway only sends function tools, but the
 * wire type also allows 'custom', and deltas are passed on as they came.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function' | 'custom';
  function?: { name?: string; arguments?: string };
}

export interface UpstreamUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * One upstream chunk that carries something. Several fields can be set at
 * once (e.g. the last content and the finish_reason). Usage usually comes in
 * its own chunk after the finish_reason, and may never come at all.
 */
export interface UpstreamChunk {
  contentDelta?: string;
  toolCallDeltas?: ToolCallDelta[];
  finishReason?: string;
  usage?: UpstreamUsage;
}

export interface UpstreamClientOptions {
  /** OpenAI-compatible base URL, e.g. `https://tokenhub.store/api/v1`. */
  baseUrl: string;
  apiKey: string;
  /** From the request until the first chunk that carries output (content, tool call, finish or usage). */
  firstByteTimeoutMs: number;
  /** Longest wait for the next chunk after that; time the consumer spends on a chunk does not count. */
  idleTimeoutMs: number;
}

export interface UpstreamClient {
  /**
   * Streams one chat completion. Ends normally after the upstream's stream
   * ends with a finish_reason; throws UpstreamError otherwise. Aborting
   * `signal` closes the HTTP request and throws UpstreamError('aborted').
   */
  streamChat(request: UpstreamRequest, signal: AbortSignal): AsyncIterable<UpstreamChunk>;
}
