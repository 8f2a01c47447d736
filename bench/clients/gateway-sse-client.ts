import type { Agent } from 'node:http';
import { completionInput, startAndStreamSubscription, startMutation, streamSubscription, type Profile } from '../workload.js';
import { failureOf, newSample, now, type ArmClient, type CompletionSample, type TokenSink } from './arm-client.js';
import { EventTally, fieldOf, type GraphQLResult, type StreamEvent } from './event-tally.js';
import { postJson, postSse } from './http.js';

/**
 * A frontend on plain HTTP, over Server-Sent Events (graphql-sse's distinct
 * connections mode) on keep-alive sockets. `two-step`: the startCompletion
 * mutation, then completionStream; `one-operation`: streamCompletion, which
 * starts and streams in one subscription.
 */
export function gatewaySseClient(graphqlUrl: string, apiKey: string, profile: Profile, agent: Agent, mode: 'two-step' | 'one-operation' = 'two-step'): ArmClient {
  const url = new URL(graphqlUrl);
  const headers = { authorization: `Bearer ${apiKey}` };
  const input = completionInput(profile);
  const start = JSON.stringify({ query: startMutation, variables: { input } });
  const startAndStream = JSON.stringify({ query: startAndStreamSubscription, variables: { input } });
  return {
    connect: async () => undefined,
    complete: async (onTokens: TokenSink, signal: AbortSignal): Promise<CompletionSample> => {
      const sample = newSample();
      const tally = new EventTally(sample, profile, onTokens);
      try {
        let body = startAndStream;
        let field = 'streamCompletion';
        if (mode === 'two-step') {
          const started = (await postJson({ url, body: start, headers, agent, signal })) as GraphQLResult;
          const { id } = fieldOf<{ id: string }>(started, 'startCompletion');
          sample.acceptedAt = now();
          body = JSON.stringify({ query: streamSubscription, variables: { id } });
          field = 'completionStream';
        }
        // The `complete` event carries an empty data line.
        await postSse({ url, body, headers, agent, signal }, (data) => data !== '' && tally.take(fieldOf<StreamEvent>(JSON.parse(data) as GraphQLResult, field)));
        if (sample.finishedAt === null) sample.error ??= 'the stream ended without the last event';
      } catch (error) {
        sample.error = failureOf(error, signal);
      }
      return sample;
    },
    close: () => undefined,
  };
}
