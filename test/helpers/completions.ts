import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { gqlOk } from './graphql.js';
import { startServer, type TestServer } from './server.js';
import { collectFrom } from './subscriptions.js';
import { wsClient } from './ws.js';

export const completionFields = `id status content toolCalls finishReason cost reserved
  usage { promptTokens completionTokens totalTokens cachedPromptTokens cacheWriteTokens estimated } error { code message } model { id }`;

export const streamQuery = `subscription($id: ID!, $after: Int) {
  completionStream(id: $id, after: $after) {
    completionId index delta toolCallDeltas outputTokens cost done completion { ${completionFields} }
  }
}`;

export const startMutation = `mutation($input: CompletionInput!) { startCompletion(input: $input) { ${completionFields} } }`;

/** A server whose upstream is a simulator of the test's own, on a real port. */
export async function startServerWithSimulator(
  env: Record<string, string> = {},
  options: Parameters<typeof startServer>[1] = {},
): Promise<{ server: TestServer; simulator: Simulator }> {
  const simulator = await startSimulator();
  const server = await startServer(
    {
      UPSTREAM_BASE_URL: simulator.baseUrl,
      UPSTREAM_API_KEY: 'th-upstream-test-key',
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '2000',
      UPSTREAM_IDLE_TIMEOUT_MS: '300',
      ...env,
    },
    options,
  );
  const stop = server.stop;
  server.stop = async () => {
    await stop();
    await simulator.close();
  };
  return { server, simulator };
}

export function userMessage(text: string) {
  return [{ role: 'user', content: text }];
}

export async function startCompletion(server: TestServer, token: string, input: Record<string, unknown>) {
  const data = await gqlOk(server, startMutation, { token, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('Hello there'), ...input } } });
  return data.startCompletion;
}

/** Starts a completion and follows it over graphql-ws to its end; returns the settled completion. */
export async function runToEnd(server: TestServer, token: string, input: Record<string, unknown>) {
  const started = await startCompletion(server, token, input);
  return followToEnd(server, token, started.id);
}

/** Follows a started completion over graphql-ws to its end; returns the settled completion. */
export async function followToEnd(server: TestServer, token: string, id: string) {
  const client = wsClient(server, token);
  try {
    const { data, errors } = await collectFrom<{ completionStream: any }>(client, streamQuery, { id });
    if (errors.length > 0) throw new Error(`stream failed: ${JSON.stringify(errors)}`);
    return data.at(-1)!.completionStream.completion;
  } finally {
    await client.dispose();
  }
}

/** The key's newest completion once it has settled (a cancel settles it after the client's abort, not with it). */
export async function settledNewest(server: TestServer, key: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const data = await gqlOk(server, `{ viewer { completions(first: 1) { edges { node { ${completionFields} } } } } }`, { token: key });
    const completion = data.viewer.completions.edges[0]?.node;
    if (completion && !['PENDING', 'STREAMING'].includes(completion.status)) return completion;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the completion did not settle');
}
