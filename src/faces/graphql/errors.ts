import { PothosValidationError } from '@pothos/core';
import type { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { BadInputError, DomainError, dottedPath, retryAfterOf, type Spelling } from '../../domain/errors.js';

/** The schema names inputs as the domain does: `messages[3].toolCallId`. */
export const graphQLSpelling: Spelling = {
  field: (path) => dottedPath(path),
  listing: () => 'the models query',
};

/**
 * The one place where expected failures become GraphQL errors with the
 * contract's extensions.code. Returns undefined for anything unexpected,
 * which the caller masks and logs. Execution errors keep HTTP 200, as the
 * GraphQL-over-HTTP spec asks, so every client (SSE ones included) reads them.
 */
export function toGraphQLError(error: unknown, path?: readonly (string | number)[]): GraphQLError | undefined {
  if (error instanceof DomainError) {
    const extensions: Record<string, unknown> = { code: error.code };
    if (error instanceof BadInputError) extensions.field = graphQLSpelling.field(error.fieldPath);
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) extensions.retryAfter = retryAfter;
    return createGraphQLError(error.describe(graphQLSpelling), { path, extensions });
  }
  if (error instanceof PothosValidationError) {
    return createGraphQLError(error.message, { path, extensions: { code: 'BAD_USER_INPUT' } });
  }
  return undefined;
}
