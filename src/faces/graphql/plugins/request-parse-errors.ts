import { createGraphQLError, type Plugin } from 'graphql-yoga';

const isNamed = (error: unknown, name: string) => error instanceof Error && error.name === name;

/**
 * A request parser only reads what the client sent, so whatever it throws
 * (say, `variables=notjson` in a GET query string, which yoga's GET parser
 * passes to JSON.parse) is the client's error: 400 BAD_REQUEST instead of a
 * masked 500. Errors that already are GraphQL errors (yoga's own 4xx, the
 * body size limit) and aborts pass unchanged.
 */
export function useRequestParseErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (isNamed(error, 'GraphQLError') || isNamed(error, 'AbortError')) throw error;
          throw createGraphQLError('the request could not be read: the query, variables, operationName and extensions must be well-formed (variables and extensions as JSON)', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
