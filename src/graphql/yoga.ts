import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGraphQLError, createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import { createMaskError } from '../plugins/error-masking.js';
import type { Services } from '../services.js';
import type { Context } from './context.js';
import { toGraphQLError } from './errors.js';
import { graphiqlExamples } from './graphiql-examples.js';

export type ServerContext = { req: IncomingMessage; res: ServerResponse };
export type Yoga = YogaServerInstance<ServerContext, Context>;

export function createGraphQLServer(schema: GraphQLSchema, services: Services): Yoga {
  const { config, logger } = services;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: config.graphiql ? graphiqlExamples : false,
    maskedErrors: { maskError: createMaskError(logger) },
    logging: {
      debug: (...args) => logger.debug(args.join(' ')),
      info: (...args) => logger.info(args.join(' ')),
      warn: (...args) => logger.warn(args.join(' ')),
      error: (...args) => logger.error(args.join(' ')),
    },
    context: async ({ request }): Promise<Context> => {
      try {
        const viewer = await services.authenticator.authenticate(request.headers.get('authorization'));
        return { viewer, services, requestId: request.headers.get('x-request-id') ?? randomUUID(), models: new Map() };
      } catch (error) {
        // Bad credentials fail the whole request before execution: HTTP 401.
        const refused = toGraphQLError(error);
        if (!refused) throw error;
        throw createGraphQLError(refused.message, { extensions: { ...refused.extensions, http: { status: 401 } } });
      }
    },
  });
}
