import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { UpstreamError } from '../domain/completions/upstream.js';

// Turns whatever the openai SDK, the fetch underneath it or JSON.parse of a
// chunk throws into an UpstreamError the gateway can act on.

/** `retry-after-ms`, or `retry-after` as seconds or an HTTP date, in whole seconds. */
function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const value = headers?.get('retry-after');
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** An error's message with its cause's, e.g. "terminated (other side closed)". */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

/** The upstream's own message without the SDK's leading status code. */
function upstreamMessage(error: APIError): string {
  const prefix = `${error.status} `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

function classify(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof APIConnectionTimeoutError) {
    return new UpstreamError('timeout', 'The upstream did not answer in time.');
  }
  if (error instanceof APIUserAbortError) return new UpstreamError('aborted', 'The upstream request was aborted.');
  if (error instanceof APIConnectionError) {
    const detail = describe(error.cause ?? error);
    return new UpstreamError('network', `Could not reach the upstream: ${detail}.`, { cause: error.cause });
  }
  if (error instanceof APIError) {
    if (error.status === 429) {
      return new UpstreamError('rate_limited', `The upstream is rate limiting us: ${upstreamMessage(error)}`, {
        status: 429,
        retryAfterSeconds: retryAfterSeconds(error.headers),
      });
    }
    return new UpstreamError('http', `The upstream answered HTTP ${error.status}: ${upstreamMessage(error)}`, {
      status: error.status,
    });
  }
  if (error instanceof SyntaxError) {
    return new UpstreamError('malformed', `The upstream sent a chunk that is not valid JSON: ${error.message}`, { cause: error });
  }
  return new UpstreamError('network', `The upstream connection failed: ${describe(error)}.`, { cause: error });
}

/** Classifies `error`; the message never contains `apiKey`, whatever the upstream echoed. */
export function toUpstreamError(error: unknown, apiKey: string): UpstreamError {
  const classified = classify(error);
  if (apiKey === '' || !classified.message.includes(apiKey)) return classified;
  return new UpstreamError(classified.kind, classified.message.replaceAll(apiKey, '[redacted]'), {
    status: classified.status,
    retryAfterSeconds: classified.retryAfterSeconds,
  });
}
