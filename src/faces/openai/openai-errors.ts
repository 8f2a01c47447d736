import type { OutgoingHttpHeaders } from 'node:http';
import { BadInputError, DomainError, dottedPath, IdempotencyKeyReusedError, ModelUnavailableError, RateLimitedError, retryAfterOf, type ErrorCode, type Spelling } from '../../domain/errors.js';
import { openAIRateLimitHeaders } from './rate-limit-headers.js';

/** OpenAI's error body, which its SDKs turn into typed exceptions. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A failure answered in OpenAI's terms: status, error body and any headers (retry-after). */
export class OpenAIHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }

  get body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

// Statuses follow OpenAI where it has one (400, 401, 403, 404, 429); credits
// the account lacks are 402, which OpenAI never sends but HTTP names exactly.
const openAIErrorOf: Record<ErrorCode, { status: number; type: string; code: string | null }> = {
  UNAUTHENTICATED: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  FORBIDDEN: { status: 403, type: 'permission_error', code: 'forbidden' },
  BAD_USER_INPUT: { status: 400, type: 'invalid_request_error', code: null },
  NOT_FOUND: { status: 404, type: 'invalid_request_error', code: 'not_found' },
  INSUFFICIENT_CREDITS: { status: 402, type: 'insufficient_quota', code: 'insufficient_credits' },
  SPEND_LIMIT_EXCEEDED: { status: 402, type: 'insufficient_quota', code: 'spend_limit_exceeded' },
  RATE_LIMITED: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  UNAVAILABLE: { status: 503, type: 'server_error', code: 'service_unavailable' },
};

// A REST caller sent OpenAI's snake_case names (and the idempotency key as a
// header): messages and `param` use the names it sent.
const wireNames: Record<string, string> = {
  maxTokens: 'max_tokens',
  topP: 'top_p',
  toolChoice: 'tool_choice',
  responseFormat: 'response_format',
  toolCallId: 'tool_call_id',
  toolCalls: 'tool_calls',
  idempotencyKey: 'Idempotency-Key',
};

export const openAISpelling: Spelling = {
  field: (path) => dottedPath(path, (key) => wireNames[key] ?? key),
  listing: () => 'GET /v1/models',
};

/**
 * The OpenAI error for an expected domain failure; undefined for anything
 * else, which the caller logs and answers with a masked 500. An unknown or
 * disabled model is 404 `model_not_found`, as OpenAI answers, although
 * GraphQL reports it as BAD_USER_INPUT.
 */
export function toOpenAIError(error: unknown): OpenAIHttpError | undefined {
  if (error instanceof OpenAIHttpError) return error;
  if (!(error instanceof DomainError)) return undefined;
  const message = error.describe(openAISpelling);
  if (error instanceof BadInputError) {
    const param = openAISpelling.field(error.fieldPath);
    if (error instanceof ModelUnavailableError) return new OpenAIHttpError(404, message, 'invalid_request_error', 'model_not_found', param);
    // The key is the conflict, not the body: a retry of the same request would succeed.
    if (error instanceof IdempotencyKeyReusedError) return new OpenAIHttpError(409, message, 'invalid_request_error', 'idempotency_key_reused', param, { 'x-should-retry': 'false' });
    return new OpenAIHttpError(400, message, 'invalid_request_error', null, param);
  }
  const { status, type, code } = openAIErrorOf[error.code];
  const window = error instanceof RateLimitedError && error.window ? openAIRateLimitHeaders(error.window) : {};
  return new OpenAIHttpError(status, message, type, code, null, { ...retryAfterHeader(retryAfterOf(error)), ...window });
}

/** `retry-after` when the gateway knows when to come back (its own rate limit, an open breaker, the upstream's 429). */
export const retryAfterHeader = (seconds: number | null | undefined): OutgoingHttpHeaders => (seconds === null || seconds === undefined ? {} : { 'retry-after': String(seconds) });

export const internalError = () => new OpenAIHttpError(500, 'Unexpected error.', 'server_error');
