// The port through which completions reach the model: the gateway's view of
// an OpenAI-compatible upstream, in camelCase and independent of any SDK.
// upstream/ implements it over HTTP; the domain never imports that.

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

/** The upstream's counts; promptTokens include the cached reads and writes (0 when it reported none). */
export interface UpstreamUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  cacheWriteTokens: number;
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

export interface UpstreamClient {
  /**
   * Streams one chat completion. Ends normally after the upstream's stream
   * ends with a finish_reason; throws UpstreamError otherwise. Aborting
   * `signal` closes the HTTP request and throws UpstreamError('aborted').
   */
  streamChat(request: UpstreamRequest, signal: AbortSignal): AsyncIterable<UpstreamChunk>;
}

export type UpstreamErrorKind =
  /** The upstream answered with an HTTP error status (or an error object inside the stream). */
  | 'http'
  /**
   * The upstream refused the request itself (HTTP 400, 413, 422): the same
   * request would be refused again, so it is neither retried nor counted
   * against the upstream's health, and the caller hears it as its own error.
   */
  | 'refused'
  /** HTTP 429; `retryAfterSeconds` is set when the upstream said when to come back. */
  | 'rate_limited'
  /** Connection refused, reset, or closed before the stream finished. */
  | 'network'
  /** A chunk that is not valid JSON, or a stream that ended without a finish_reason. */
  | 'malformed'
  /** No first output within the first-byte timeout, or no chunk within the idle timeout. */
  | 'timeout'
  /** The caller's signal aborted the request. */
  | 'aborted';

export interface UpstreamErrorDetails {
  status?: number;
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** Every failure of an upstream call. Messages never contain the API key. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    details: UpstreamErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
