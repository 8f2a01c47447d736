import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DomainError } from '../domain/errors.js';
import type { Tracing } from './tracing.js';

// The GraphQL semantic conventions' names (incubating, hence written here).
const GRAPHQL_OPERATION_NAME = 'graphql.operation.name';
const GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';

// Operation names are safe characters but have no length limit.
const MAX_NAME = 100;

/**
 * The first error's public code; undefined for a result without errors.
 * Errors are not masked yet here: a domain error is known by its class, and
 * anything else is what masking makes of it, an internal error.
 */
function errorCodeOf(result: unknown): string | undefined {
  const errors = typeof result === 'object' && result !== null && 'errors' in result ? result.errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const error = errors[0] as Partial<GraphQLError>;
  if (error.originalError instanceof DomainError) return error.originalError.code;
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

function ended(span: Span, code: string | undefined): void {
  if (code !== undefined) {
    span.setAttribute('error.type', code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }
  span.end();
}

/**
 * A span per GraphQL operation (HTTP, SSE and WebSocket alike), the child
 * of the HTTP request's span when there is one, current while the
 * operation executes: a completion it starts is its child. Named by the
 * operation's type and name; never its document or variables, where
 * prompts and keys travel. A subscription's span covers its start
 * (authorisation, finding the completion), not its events. It must come
 * after every plugin that sets the execute or subscribe function, since it
 * wraps the one it is handed.
 */
export function useOperationSpans(tracing: Tracing): Plugin {
  const open = (document: DocumentNode, operationName: string | null | undefined) => {
    const operation = getOperationAST(document, operationName);
    const type = operation?.operation ?? 'unknown';
    const name = operation?.name?.value.slice(0, MAX_NAME);
    const attributes: Attributes = { [GRAPHQL_OPERATION_TYPE]: type };
    if (name) attributes[GRAPHQL_OPERATION_NAME] = name;
    const parent = tracing.active();
    const span = tracing.tracer.startSpan(name ? `${type} ${name}` : type, { attributes }, parent);
    return { span, context: trace.setSpan(parent, span) };
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const { span, context } = open(args.document, args.operationName);
      setExecuteFn((execution) => tracing.with(context, () => executeFn(execution)));
      return { onExecuteDone: ({ result }) => ended(span, errorCodeOf(result)) };
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const { span, context } = open(args.document, args.operationName);
      setSubscribeFn((subscription) => tracing.with(context, () => subscribeFn(subscription)));
      return {
        onSubscribeResult: ({ result }) => ended(span, errorCodeOf(result)),
        onSubscribeError: () => ended(span, 'INTERNAL_SERVER_ERROR'),
      };
    },
  };
}
