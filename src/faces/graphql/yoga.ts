import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGraphQLError, createYoga, type GraphiQLOptions, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../../config.js';
import { RateLimitedError } from '../../domain/errors.js';
import type { Domain } from '../../domain/domain.js';
import type { Logger } from '../../logger.js';
import type { Context } from './context.js';
import { toGraphQLError } from './errors.js';
import { graphiqlExamples } from './graphiql-examples.js';
import { createLoaders } from './loaders.js';
import { useActiveSubscriptions, type Counter } from './plugins/active-subscriptions.js';
import { useArmor } from './plugins/armor.js';
import { useCompiledSubscriptionEvents } from './plugins/compiled-events.js';
import { useCsrfPrevention } from './plugins/csrf-prevention.js';
import { createMaskError } from './plugins/error-masking.js';
import { useDisableIntrospection } from './plugins/introspection.js';
import { useRefuseNulCharacters } from './plugins/nul-characters.js';
import { useOperationMetrics, type OperationTimer } from './plugins/operation-metrics.js';
import { useOperationNameLog } from './plugins/operation-name-log.js';
import { useRequestParseErrors } from './plugins/request-parse-errors.js';
import { useSingleConnectionSse } from './plugins/single-connection-sse.js';
import { useStartCompletionAlone } from './plugins/start-completion-alone.js';
import type { TrustedDocuments } from './trusted-documents.js';

export type ServerContext = { req: IncomingMessage; res: ServerResponse };
export type Yoga = YogaServerInstance<ServerContext, Context>;

let graphiqlPage: Promise<string> | undefined;

/**
 * GraphiQL from the installed package, not from a CDN: it must work on
 * machines without internet access. The page (about 9 MB, assets inlined)
 * is rendered once, as its options never change. The package is loaded on
 * the first request for the page: its module alone holds about 28 MB of
 * heap, which a server without GraphiQL (production's default) never needs.
 */
function renderLocalGraphiQL(options: GraphiQLOptions): Promise<string> {
  graphiqlPage ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
  return graphiqlPage;
}

/** What the GraphQL face needs: the domain, its settings, a log, its metrics, any trusted documents and the app's tracing plugin. */
export interface GraphQLFaceDeps {
  domain: Domain;
  config: Pick<Config, 'graphiql' | 'introspection' | 'maxRequestBytes' | 'queryLimits'>;
  logger: Logger;
  activeSubscriptions: Counter;
  operations: OperationTimer;
  trustedDocuments?: TrustedDocuments;
  /** Runs after every other plugin, so that it wraps the execute and subscribe functions they set: the operation spans. */
  tracingPlugin?: Plugin;
}

export function createGraphQLServer(schema: GraphQLSchema, { domain, config, logger, activeSubscriptions, operations, trustedDocuments, tracingPlugin }: GraphQLFaceDeps): Yoga {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Cross-origin access is decided in front of every face (src/http/cors.ts);
    // yoga's own would reflect any origin, with credentials.
    cors: false,
    graphiql: config.graphiql ? graphiqlExamples : false,
    renderGraphiQL: renderLocalGraphiQL,
    maskedErrors: { maskError: createMaskError(logger) },
    // 413 before parsing, whether the body declares its length or is chunked.
    maxRequestBodySize: config.maxRequestBytes,
    // Envelop plugins run for HTTP, SSE and WebSocket alike (websocket.ts goes through getEnveloped).
    plugins: [
      useCsrfPrevention(),
      useRequestParseErrors(),
      ...(trustedDocuments ? [trustedDocuments.plugin()] : []),
      useArmor(config.queryLimits, { blockFieldSuggestions: !config.introspection }),
      ...(config.introspection ? [] : [useDisableIntrospection()]),
      useStartCompletionAlone(),
      useRefuseNulCharacters(),
      useActiveSubscriptions(activeSubscriptions),
      useOperationMetrics(operations),
      useOperationNameLog(),
      useCompiledSubscriptionEvents(),
      useSingleConnectionSse({
        hold: async (authorization) => {
          const viewer = await domain.authenticator.authenticate(authorization);
          return viewer.kind === 'anonymous' ? undefined : domain.holdConnection(viewer);
        },
        maxRequestBytes: config.maxRequestBytes,
        logger,
      }),
      ...(tracingPlugin ? [tracingPlugin] : []),
    ],
    logging: {
      debug: (...args) => logger.debug(args.join(' ')),
      info: (...args) => logger.info(args.join(' ')),
      warn: (...args) => logger.warn(args.join(' ')),
      // Yoga logs here every error that maskError replaced, expected ones
      // (BAD_USER_INPUT …) included; maskError itself logs the unexpected
      // ones at error level, with their cause. These are the caller's own
      // errors, whose messages quote what it sent ("got invalid value …",
      // a prompt in the wrong field): only their code is logged, at any level.
      error: (...args) => {
        const err = args.find((arg): arg is Error & { extensions?: { code?: unknown } } => arg instanceof Error);
        logger.debug({ code: err?.extensions?.code ?? err?.name }, 'a request failed with an error for its client');
      },
    },
    context: async ({ request }): Promise<Context> => {
      try {
        const viewer = await domain.authenticator.authenticate(request.headers.get('authorization'));
        return { viewer, domain, requestId: request.headers.get('x-request-id') ?? randomUUID(), loaders: createLoaders(domain, viewer) };
      } catch (error) {
        // Bad credentials (401) and a key over its rate (429) fail the whole
        // request before execution.
        const refused = toGraphQLError(error);
        if (!refused) throw error;
        const http =
          error instanceof RateLimitedError
            ? { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } }
            : { status: 401 };
        throw createGraphQLError(refused.message, { extensions: { ...refused.extensions, http } });
      }
    },
  });
}
