import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';

export interface OperationTimer {
  /** `name`: null for an operation without one, or of a caller without credentials. */
  observeOperation(name: string | null, type: string, outcome: 'ok' | 'error', seconds: number): void;
}

const hasErrors = (result: unknown) => typeof result === 'object' && result !== null && 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;

/**
 * Times every GraphQL operation executed, over HTTP, SSE and WebSocket: a
 * query or mutation until its result, a subscription until its stream is
 * set up (its events are not timed). A request refused before execution
 * (unparsable, invalid, bad credentials) is counted by the HTTP metrics only.
 */
export function useOperationMetrics(timer: OperationTimer): Plugin {
  // Names label operations only for callers with credentials: the labels are
  // few (see metrics.ts), and a caller without any could otherwise take them
  // all with made-up names.
  const timing = (document: DocumentNode, operationName: string | null | undefined, context: object) => {
    const started = performance.now();
    const operation = getOperationAST(document, operationName);
    const { viewer } = context as Partial<Context>;
    const name = viewer && viewer.kind !== 'anonymous' ? (operation?.name?.value ?? null) : null;
    return (outcome: 'ok' | 'error') => timer.observeOperation(name, operation?.operation ?? 'unknown', outcome, (performance.now() - started) / 1000);
  };
  return {
    onExecute({ args }) {
      const done = timing(args.document, args.operationName, args.contextValue);
      return { onExecuteDone: ({ result }) => done(hasErrors(result) ? 'error' : 'ok') };
    },
    onSubscribe({ args }) {
      const done = timing(args.document, args.operationName, args.contextValue);
      return {
        onSubscribeResult: ({ result }) => done(hasErrors(result) ? 'error' : 'ok'),
        onSubscribeError: () => done('error'),
      };
    },
  };
}
