import type { GraphQLError } from 'graphql';
import { createGraphQLError, type MaskError } from 'graphql-yoga';
import type { Logger } from '../../../logger.js';
import { toGraphQLError } from '../errors.js';

// graphql ships CommonJS and ESM builds and both can be loaded at once, so an
// error from the other build fails `instanceof`: recognise errors by name.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

/** The first error in the originalError chain that is not a GraphQL wrapper. */
function causeOf(error: unknown): unknown {
  let cause = error;
  while (isGraphQLError(cause) && cause.originalError) cause = cause.originalError;
  return cause;
}

/**
 * Expected failures keep their message and get the contract's code; anything
 * else becomes a generic INTERNAL_SERVER_ERROR for the client while the cause
 * is logged.
 */
export function createMaskError(logger: Logger): MaskError {
  return (error, message) => {
    const path = isGraphQLError(error) ? error.path : undefined;
    const cause = causeOf(error);
    const mapped = toGraphQLError(cause, path);
    if (mapped) return mapped;
    if (isGraphQLError(cause)) {
      const expected = isGraphQLError(error) ? error : cause;
      // graphql-js reports bad variables (wrong type, null for a required
      // input) without a code; they are the caller's input errors.
      if (expected.extensions?.code === undefined && !expected.path) {
        return createGraphQLError(expected.message, {
          nodes: expected.nodes,
          extensions: { ...expected.extensions, code: 'BAD_USER_INPUT' },
        });
      }
      return expected;
    }
    logger.error({ err: cause, path }, 'unexpected error in a GraphQL operation');
    return createGraphQLError(message, { path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
