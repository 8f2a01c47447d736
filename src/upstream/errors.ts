export type UpstreamErrorKind =
  /** The upstream answered with an HTTP error status (or an error object inside the stream). */
  | 'http'
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
