import { GraphQLError } from 'graphql';
import { createGraphQLError, type MaskError } from 'graphql-yoga';
import { toGraphQLError } from '../graphql/errors.js';
import type { Logger } from '../logger.js';

/**
 * Expected failures keep their message and code; anything else becomes a
 * generic INTERNAL_SERVER_ERROR for the client while the cause is logged.
 */
export function createMaskError(logger: Logger): MaskError {
  return (error, message) => {
    const graphQLError = error instanceof GraphQLError ? error : undefined;
    const cause = graphQLError?.originalError ?? error;
    const mapped = toGraphQLError(cause, graphQLError?.path);
    if (mapped) return mapped;
    if (graphQLError && (!graphQLError.originalError || graphQLError.originalError instanceof GraphQLError)) {
      return graphQLError;
    }
    logger.error({ err: cause, path: graphQLError?.path }, 'unexpected error in a GraphQL operation');
    return createGraphQLError(message, {
      path: graphQLError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', http: { status: 500 } },
    });
  };
}
