import { PothosValidationError } from '@pothos/core';
import type { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { BadInputError, DomainError, RateLimitedError } from '../domain/errors.js';

const httpStatusOf: Record<DomainError['code'], number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  INSUFFICIENT_CREDITS: 402,
  SPEND_LIMIT_EXCEEDED: 402,
  RATE_LIMITED: 429,
};

/**
 * The one place where expected failures become GraphQL errors with the
 * contract's extensions.code. Returns undefined for anything unexpected,
 * which the caller masks and logs.
 */
export function toGraphQLError(error: unknown, path?: readonly (string | number)[]): GraphQLError | undefined {
  if (error instanceof DomainError) {
    const extensions: Record<string, unknown> = { code: error.code };
    if (error instanceof BadInputError && error.field) extensions.field = error.field;
    if (error instanceof RateLimitedError) extensions.retryAfter = error.retryAfterSeconds;
    return createGraphQLError(error.message, { path, extensions: { ...extensions, http: { status: httpStatusOf[error.code] } } });
  }
  if (error instanceof PothosValidationError) {
    return createGraphQLError(error.message, { path, extensions: { code: 'BAD_USER_INPUT' } });
  }
  return undefined;
}
