import type { IncomingHttpHeaders } from 'node:http';
import { UpstreamError } from '../domain/completions/upstream.js';

// Turns what the upstream answers or throws (an error status, a failed
// socket, JSON.parse of a chunk) into an UpstreamError the gateway can act on.

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The longest retry-after passed on: an hour. The upstream is not trusted
 * to tell every client to wait a day (or 3,000 years), and the value must
 * fit the completion's row (an unwritable settlement would hold it).
 */
const MAX_RETRY_AFTER_SECONDS = 3_600;

/** `retry-after-ms`, or `retry-after` as seconds or an HTTP date, in whole seconds. */
function retryAfterSeconds(headers: IncomingHttpHeaders): number | undefined {
  const seconds = retryAfterAsGiven(headers);
  return seconds === undefined ? undefined : Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}

function retryAfterAsGiven(headers: IncomingHttpHeaders): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const value = header(headers, 'retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Longest part of an error body quoted in a message that is not OpenAI's error JSON. */
const MAX_QUOTED_BODY = 300;

/**
 * What an error answer says: OpenAI's `{ "error": { "message" } }`, the
 * error object or JSON as it came, or the start of a body that is not JSON.
 */
function messageOf(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return trimmed === '' ? 'no body' : trimmed.slice(0, MAX_QUOTED_BODY);
  }
  const error = typeof json === 'object' && json !== null && 'error' in json ? (json as { error: unknown }).error : json;
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  if (typeof message === 'string' && message !== '') return message;
  return (JSON.stringify(error) ?? 'no body').slice(0, MAX_QUOTED_BODY);
}

/**
 * Statuses that say the request itself is wrong (a conversation the
 * upstream will not take, say). 401, 403 and 404 are not among them: they
 * say the gateway's own key or model mapping is wrong, the operator's
 * problem, not the caller's.
 */
const REFUSED_STATUSES = new Set([400, 413, 422]);

/** The error for an answer with a status outside 2xx. */
export function statusError(status: number, headers: IncomingHttpHeaders, body: string): UpstreamError {
  if (status === 429) {
    return new UpstreamError('rate_limited', `The upstream is rate limiting us: ${messageOf(body)}`, { status, retryAfterSeconds: retryAfterSeconds(headers) });
  }
  if (REFUSED_STATUSES.has(status)) return new UpstreamError('refused', `The upstream refused the request (HTTP ${status}): ${messageOf(body)}`, { status });
  return new UpstreamError('http', `The upstream answered HTTP ${status}: ${messageOf(body)}`, { status });
}

/** An error's message with its cause's, e.g. "terminated (other side closed)". */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

function classify(error: unknown, answered: boolean): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof SyntaxError) {
    return new UpstreamError('malformed', `The upstream sent a chunk that is not valid JSON: ${error.message}`, { cause: error });
  }
  const message = answered ? `The upstream connection failed: ${describe(error)}.` : `Could not reach the upstream: ${describe(error)}.`;
  return new UpstreamError('network', message, { cause: error });
}

/**
 * Classifies `error`, thrown before the upstream answered or while its
 * answer was read; the message never contains `apiKey`, whatever the
 * upstream echoed.
 */
export function toUpstreamError(error: unknown, apiKey: string, answered: boolean): UpstreamError {
  const classified = classify(error, answered);
  if (apiKey === '' || !classified.message.includes(apiKey)) return classified;
  return new UpstreamError(classified.kind, classified.message.replaceAll(apiKey, '[redacted]'), {
    status: classified.status,
    retryAfterSeconds: classified.retryAfterSeconds,
  });
}
