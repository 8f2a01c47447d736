import type { GraphiQLOptions } from 'graphql-yoga';

/** What the stream and cancel examples say in place of an id; a test swaps in a real one. */
export const COMPLETION_ID_PLACEHOLDER = 'PASTE-THE-COMPLETION-ID';

// One document holding every example, so each runs from the ▶ button's menu
// without variables (GraphiQL shows a default tab's variables only after
// switching to it, graphql/graphiql#3392, so literals are used and the
// variables form is shown in comments). test/graphiql-examples.test.ts
// validates and runs every operation, so they cannot drift from the schema.
const defaultQuery = `# TokenHub gateway: ready-to-run examples.
# Run one with the ▶ button, which asks which.
#
# Headers (below): set "Authorization" to "Bearer <token>",
# the token being either
#   - the admin token that \`npm start\` printed, or
#   - an API key th-… (it sees its own account only).
# Models needs no token; completions need an API key
# (or the admin token and input.accountId).
#
# Subscriptions run over SSE here. A graphql-ws client
# sends the token in connectionParams instead:
#   { "authorization": "Bearer th-…" }
# The built-in simulator upstream (no UPSTREAM_API_KEY)
# obeys directives in the last user message, such as
# [sim:words=200,itl=50] or [sim:fault=reset,after=5].

query Models {
  models {
    id name enabled recommended maxOutputTokens
    inputPricePerMillion outputPricePerMillion
  }
}

query Viewer {
  viewer {
    id name balance reserved available
    completions(first: 5) {
      edges { node { id status cost createdAt } }
    }
  }
}

# Validates, reserves the worst case, returns at once.
# Copy the id into StreamCompletion. With variables:
#   mutation StartCompletion($input: CompletionInput!) {
#     startCompletion(input: $input) { id status reserved }
#   }
#   { "input": { "model": "claude-sonnet-4-6",
#     "messages": [{ "role": "user", "content": "Hello" }],
#     "maxTokens": 300 } }
mutation StartCompletion {
  startCompletion(input: {
    model: "claude-sonnet-4-6"
    messages: [
      { role: "system", content: "Answer in one short paragraph." }
      { role: "user", content: "What does a metered API gateway do?" }
    ]
    maxTokens: 300
    temperature: 0.7
  }) { id status reserved model { id name } }
}

# Every event of a completion in order, even after it
# ended (add after: <index> to resume), then the last
# one (done: true) with what was charged.
subscription StreamCompletion {
  completionStream(id: "${COMPLETION_ID_PLACEHOLDER}") {
    index delta outputTokens cost done
    completion {
      status cost finishReason
      usage { promptTokens completionTokens estimated }
      error { code message }
    }
  }
}

# Stops a running completion; it is charged for what
# was generated before the cancel.
mutation CancelCompletion {
  cancelCompletion(id: "${COMPLETION_ID_PLACEHOLDER}") { id status cost }
}

# Starts and streams in one operation, as a frontend would.
subscription StartAndStream {
  streamCompletion(input: {
    model: "claude-haiku-4-5"
    messages: [
      { role: "user", content: "Name three uses of prepaid credits." }
    ]
    maxTokens: 200
  }) {
    completionId index delta outputTokens cost done
    completion {
      status cost
      usage { promptTokens completionTokens estimated }
    }
  }
}
`;

export const graphiqlExamples: GraphiQLOptions & { query: string } = {
  title: 'TokenHub gateway',
  // Yoga's GraphiQL 4.5.0 opens with its welcome text whatever defaultQuery
  // says, unless `query` is given (an option yoga passes through untyped):
  // `query` opens the examples, defaultQuery fills tabs opened with +.
  query: defaultQuery,
  defaultQuery,
  // Empty, not a placeholder: GraphiQL sends these headers with every
  // request, introspection included, and a placeholder token would be refused
  // (UNAUTHENTICATED), so the schema docs would not even load.
  headers: JSON.stringify({ Authorization: '' }, null, 2),
  // The admin token must not outlive the tab in the browser's localStorage.
  shouldPersistHeaders: false,
};
