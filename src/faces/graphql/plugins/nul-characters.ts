import { BREAK, visit, type DocumentNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

// Postgres stores no U+0000 in text or jsonb, so such a string would fail
// deep inside a query as an unexpected error. It is the caller's input
// error, and is answered as one before anything runs.

function hasNul(value: unknown): boolean {
  // Iterative: variables may be nested deeper than the call stack allows.
  const pending = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes('\0')) return true;
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, nested] of Object.entries(item)) {
        if (key.includes('\0')) return true;
        pending.push(nested);
      }
    }
  }
  return false;
}

function documentHasNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    StringValue(node) {
      if (!node.value.includes('\0')) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

const carriesNul = (args: { document: DocumentNode; variableValues?: unknown }) => hasNul(args.variableValues) || documentHasNul(args.document);

const refusal = () => ({
  errors: [
    createGraphQLError('text must not contain the NUL character (U+0000); remove it and send the request again', {
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    }),
  ],
});

/** Refuses operations whose variables or string literals contain U+0000, on every transport. */
export function useRefuseNulCharacters(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (carriesNul(args)) setResultAndStopExecution(refusal());
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (carriesNul(args)) setResultAndStopExecution(refusal());
    },
  };
}
