// Expected failures of the domain. Each carries the public error code of the
// contract; the GraphQL and REST layers map them, everything else is masked.

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_CREDITS'
  | 'SPEND_LIMIT_EXCEEDED'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
}

export class BadInputError extends DomainError {
  readonly code = 'BAD_USER_INPUT';
  /** The input field at fault, e.g. "input.amount". */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
}

export class InsufficientCreditsError extends DomainError {
  readonly code = 'INSUFFICIENT_CREDITS';
}

export class SpendLimitExceededError extends DomainError {
  readonly code = 'SPEND_LIMIT_EXCEEDED';
}

export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The server is shutting down and takes no new work; the request may be retried. */
export class UnavailableError extends DomainError {
  readonly code = 'UNAVAILABLE';
}
