import type { IncomingMessage } from 'node:http';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { noteOperation } from '../../../http/request-log.js';

function note(context: unknown, document: DocumentNode, operationName: string | null | undefined): void {
  const req = (context as { req?: IncomingMessage }).req;
  const operation = getOperationAST(document, operationName);
  if (req && operation) noteOperation(req, operation.name?.value ?? `anonymous ${operation.operation}`);
}

/** Gives the request log the name of the operation a request executed (queries and mutations, and SSE subscriptions). */
export function useOperationNameLog(): Plugin {
  return {
    onExecute({ args }) {
      note(args.contextValue, args.document, args.operationName);
    },
    onSubscribe({ args }) {
      note(args.contextValue, args.document, args.operationName);
    },
  };
}
