import { Kind, type ASTVisitor, type FieldNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

// startCompletion is non-null (the contract's `Completion!`), and so is every
// other mutation field. Mutation fields run one after another; when one
// after startCompletion fails, its null takes the whole `data` with it, and
// the client never learns the id of a completion that reserved credits,
// runs and is charged. A mutation holding startCompletion must therefore
// hold nothing else that can fail: that is checked on the document, before
// anything runs, on every transport. Starting several completions in one
// document saves nothing over several requests.

const START = 'startCompletion';

/** The root fields an operation selects, through its fragments (each once: cycles are another rule's error). */
function rootFields(context: ValidationContext, selectionSet: SelectionSetNode, spread = new Set<string>()): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(context, selection.selectionSet, spread);
    const fragment = context.getFragment(selection.name.value);
    if (!fragment || spread.has(fragment.name.value)) return [];
    spread.add(fragment.name.value);
    return rootFields(context, fragment.selectionSet, spread);
  });
}

const responseKey = (field: FieldNode) => field.alias?.value ?? field.name.value;

function startCompletionAlone(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      if (operation.operation !== 'mutation') return;
      const fields = rootFields(context, operation.selectionSet);
      const starts = fields.filter((field) => field.name.value === START);
      if (starts.length === 0) return;
      // Fields under one response key are merged into one and run once; __typename cannot fail.
      const keys = new Set(fields.filter((field) => field.name.value !== '__typename').map(responseKey));
      if (keys.size === 1) return;
      context.reportError(
        createGraphQLError(
          `${START} must be the only field of its mutation, which selects ${[...keys].join(', ')}: a failure of another would null the whole answer and hide the started completion's id. Send each ${START} in a request of its own.`,
          { nodes: starts, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
        ),
      );
    },
  };
}

/** Refuses a mutation that holds startCompletion and any other field, before anything runs (HTTP, SSE and WebSocket alike). */
export function useStartCompletionAlone(): Plugin {
  return {
    onValidate: ({ addValidationRule }) => addValidationRule(startCompletionAlone),
  };
}
