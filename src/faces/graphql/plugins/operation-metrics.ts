import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationTimer {
  /** `name`: null for an anonymous operation. */
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
  const timing = (document: DocumentNode, operationName: string | null | undefined) => {
    const started = performance.now();
    const operation = getOperationAST(document, operationName);
    return (outcome: 'ok' | 'error') => timer.observeOperation(operation?.name?.value ?? null, operation?.operation ?? 'unknown', outcome, (performance.now() - started) / 1000);
  };
  return {
    onExecute({ args }) {
      const done = timing(args.document, args.operationName);
      return { onExecuteDone: ({ result }) => done(hasErrors(result) ? 'error' : 'ok') };
    },
    onSubscribe({ args }) {
      const done = timing(args.document, args.operationName);
      return {
        onSubscribeResult: ({ result }) => done(hasErrors(result) ? 'error' : 'ok'),
        onSubscribeError: () => done('error'),
      };
    },
  };
}
