import type { Agent } from 'node:http';
import { createClient, type Client, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import { completionInput, startAndStreamSubscription, startMutation, streamSubscription, type Profile } from '../workload.js';
import { failureOf, newSample, now, type ArmClient, type CompletionSample, type TokenSink } from './arm-client.js';
import { EventTally, fieldOf, type GraphQLResult, type StreamEvent } from './event-tally.js';
import { postJson } from './http.js';

/**
 * Runs one graphql-ws operation; `onResult` returning true ends it. An
 * abort unsubscribes (the server stops sending; the completion runs on).
 */
function operation(client: Client, payload: SubscribePayload, onResult: (result: GraphQLResult) => boolean, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const end = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
    };
    const unsubscribe = client.subscribe(payload, {
      next: (result) => {
        if (settled) return;
        try {
          if (onResult(result as GraphQLResult)) end();
        } catch (error) {
          unsubscribe();
          end(error);
        }
      },
      error: end,
      complete: () => end(),
    });
    const onAbort = (): void => {
      unsubscribe();
      end(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A frontend on graphql-ws: one WebSocket, kept open between completions.
 * `two-step` is the usual split link: the startCompletion mutation over HTTP
 * (keep-alive), then completionStream over the socket. (Mutations over the
 * socket itself are refused by yoga's no-mutation-over-GET rule, because
 * the request the WebSocket handler builds for the envelop is a GET.)
 * `one-operation` uses streamCompletion, which starts and streams in one
 * subscription.
 */
export function gatewayWsClient(graphqlUrl: string, apiKey: string, profile: Profile, mode: 'two-step' | 'one-operation', agent: Agent): ArmClient {
  let client: Client | undefined;
  const input = completionInput(profile);
  const url = new URL(graphqlUrl);
  const headers = { authorization: `Bearer ${apiKey}` };
  const start = JSON.stringify({ query: startMutation, variables: { input } });
  return {
    connect: () =>
      new Promise<void>((resolve, reject) => {
        client = createClient({
          url: graphqlUrl.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${apiKey}` },
          lazy: false,
          retryAttempts: 0,
          onNonLazyError: reject,
          on: { connected: () => resolve() },
        });
      }),
    complete: async (onTokens: TokenSink, signal: AbortSignal): Promise<CompletionSample> => {
      const sample = newSample();
      const tally = new EventTally(sample, profile, onTokens);
      const socket = client;
      if (!socket) throw new Error('connect() first');
      try {
        if (mode === 'one-operation') {
          await operation(socket, { query: startAndStreamSubscription, variables: { input } }, (r) => tally.take(fieldOf<StreamEvent>(r, 'streamCompletion')), signal);
        } else {
          const started = (await postJson({ url, body: start, headers, agent, signal })) as GraphQLResult;
          const { id } = fieldOf<{ id: string }>(started, 'startCompletion');
          sample.acceptedAt = now();
          await operation(socket, { query: streamSubscription, variables: { id } }, (r) => tally.take(fieldOf<StreamEvent>(r, 'completionStream')), signal);
        }
        if (sample.finishedAt === null) sample.error ??= 'the subscription ended without the last event';
      } catch (error) {
        sample.error = failureOf(error, signal);
      }
      return sample;
    },
    close: () => void client?.dispose(),
  };
}
