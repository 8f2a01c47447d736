import type { OutgoingHttpHeaders } from 'node:http';
import {
  BadInputError,
  DomainError,
  dottedPath,
  ModelUnavailableError,
  RateLimitedError,
  retryAfterOf,
  UpstreamUnavailableError,
  type ErrorCode,
  type FieldPath,
  type Spelling,
} from '../../domain/errors.js';
import { anthropicRateLimitHeaders } from './rate-limit-headers.js';

// Anthropic's error body and statuses, which its SDKs turn into typed
// exceptions (BadRequestError, PaymentRequiredError, RateLimitError, …).
// Permanent failures carry `x-should-retry: false`: Anthropic's SDKs and
// Claude Code obey it before any status rule (Claude Code retries a 401 for
// minutes without it). Transient ones (429, 5xx) leave retrying to the
// client, with `retry-after` when the gateway knows when.

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string; details?: { error_code: string } };
  request_id?: string;
}

const noRetry = { 'x-should-retry': 'false' };

/** A failure answered in Anthropic's terms: status, error type and message, headers. */
export class AnthropicHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: AnthropicErrorType,
    message: string,
    readonly headers: OutgoingHttpHeaders = status < 500 && status !== 429 ? noRetry : {},
    /** Anthropic's machine-readable reason (`error.details.error_code`), when one applies. */
    readonly errorCode?: string,
  ) {
    super(message);
  }

  body(requestId: string | undefined): AnthropicErrorBody {
    const error: AnthropicErrorBody['error'] = { type: this.type, message: this.message };
    if (this.errorCode) error.details = { error_code: this.errorCode };
    return { type: 'error', error, ...(requestId ? { request_id: requestId } : {}) };
  }
}

const anthropicErrorOf: Record<ErrorCode, { status: number; type: AnthropicErrorType; errorCode?: string }> = {
  UNAUTHENTICATED: { status: 401, type: 'authentication_error' },
  FORBIDDEN: { status: 403, type: 'permission_error' },
  BAD_USER_INPUT: { status: 400, type: 'invalid_request_error' },
  NOT_FOUND: { status: 404, type: 'not_found_error' },
  INSUFFICIENT_CREDITS: { status: 402, type: 'billing_error', errorCode: 'insufficient_credits' },
  // Anthropic's own code for a spend limit reached, which its SDK exposes as `errorCode`.
  SPEND_LIMIT_EXCEEDED: { status: 402, type: 'billing_error', errorCode: 'enforced_spend_limit_reached' },
  RATE_LIMITED: { status: 429, type: 'rate_limit_error' },
  UNAVAILABLE: { status: 503, type: 'api_error' },
};

// The domain's names for what an Anthropic request calls otherwise.
const wireNames: Record<string, string> = {
  maxTokens: 'max_tokens',
  topP: 'top_p',
  stop: 'stop_sequences',
  toolChoice: 'tool_choice',
  user: 'metadata.user_id',
  idempotencyKey: 'Idempotency-Key',
  toolCallId: 'tool_use_id',
  toolCalls: 'tool_use',
};
const toolFieldNames: Record<string, string> = { name: 'name', description: 'description', parameters: 'input_schema' };

/**
 * Where a domain message or content part came from in the Anthropic request:
 * the system prompt becomes a message, one user message becomes a tool
 * message per tool_result plus a user message, so the domain's indexes are
 * not the caller's. Paths are in the caller's terms.
 */
export interface MessageOrigin {
  message: FieldPath;
  parts: FieldPath[];
}

/** The spelling of one request's errors: its field names, and its messages' places. */
export function anthropicSpelling(origins: readonly MessageOrigin[] = []): Spelling {
  const field = (path: FieldPath): string => {
    const [head, index, kind, part] = path;
    if (head === 'messages' && typeof index === 'number' && origins[index]) {
      const origin = origins[index];
      const partOrigin = kind === 'content' && typeof part === 'number' ? origin.parts[part] : undefined;
      return dottedPath(partOrigin ?? origin.message);
    }
    if (head === 'tools' && typeof index === 'number' && kind === 'function' && typeof part === 'string') return dottedPath(['tools', index, toolFieldNames[part] ?? part]);
    return dottedPath(path, (key) => wireNames[key] ?? key);
  };
  return { field, listing: () => 'GET /v1/models' };
}

/**
 * The Anthropic error for an expected failure; undefined for anything else,
 * which the caller logs and answers with a masked 500. An unknown or
 * disabled model is 404 not_found_error, as Anthropic answers (Claude Code
 * then tells its user to pick another model).
 */
export function toAnthropicError(error: unknown, spelling: Spelling = anthropicSpelling()): AnthropicHttpError | undefined {
  if (error instanceof AnthropicHttpError) return error;
  if (!(error instanceof DomainError)) return undefined;
  const message = error.describe(spelling);
  if (error instanceof ModelUnavailableError) return new AnthropicHttpError(404, 'not_found_error', message);
  if (error instanceof BadInputError) return new AnthropicHttpError(400, 'invalid_request_error', message);
  // An upstream model whose breaker is open is Anthropic's "overloaded",
  // which its SDKs and Claude Code retry after the retry-after given.
  const { status, type, errorCode } = error instanceof UpstreamUnavailableError ? ({ status: 529, type: 'overloaded_error' } as const) : anthropicErrorOf[error.code];
  const retryAfter = retryAfterOf(error);
  const headers = {
    ...(retryAfter === undefined ? {} : retryAfterHeader(retryAfter)),
    ...(error instanceof RateLimitedError && error.window ? anthropicRateLimitHeaders(error.window) : {}),
  };
  return new AnthropicHttpError(status, type, message, Object.keys(headers).length > 0 ? headers : undefined, errorCode);
}

/** `retry-after` in whole seconds, which the SDKs and Claude Code wait before retrying. */
export const retryAfterHeader = (seconds: number): OutgoingHttpHeaders => ({ 'retry-after': String(seconds) });

export const internalError = () => new AnthropicHttpError(500, 'api_error', 'Unexpected error.');

/** A request the caller can fix: 400 invalid_request_error naming the field as the caller sent it. */
export const invalidRequest = (path: FieldPath, problem: string) =>
  new AnthropicHttpError(400, 'invalid_request_error', path.length > 0 ? `${dottedPath(path)}: ${problem}` : problem);
