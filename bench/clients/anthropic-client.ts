import type { Agent } from 'node:http';
import { BENCH_MODEL, promptOf, tokensIn, type Profile } from '../workload.js';
import { failureOf, newSample, now, type ArmClient, type CompletionSample, type TokenSink } from './arm-client.js';
import { postSse } from './http.js';

/** The `data` of an Anthropic Messages stream event; its `type` repeats the `event:` line. */
interface MessagesEvent {
  type?: string;
  delta?: { type?: string; text?: string };
  usage?: { output_tokens?: number };
  error?: { type?: string; message?: string };
}

/**
 * An Anthropic Messages streaming client, written against the protocol for
 * the gateway's Anthropic face (not there yet; run.ts enables the arm only
 * when POST /v1/messages answers something other than 404):
 * `content_block_delta` events with a `text_delta` carry the text,
 * `message_delta` the output usage, `message_stop` ends the stream and an
 * `error` event fails it. The key goes both as `x-api-key`, as the Anthropic
 * SDKs send it, and as a bearer token, as the gateway's other faces read it.
 */
export function anthropicClient(baseUrl: string, apiKey: string, profile: Profile, agent: Agent): ArmClient {
  const url = new URL(`${baseUrl}/messages`);
  const headers = { 'x-api-key': apiKey, authorization: `Bearer ${apiKey}`, 'anthropic-version': '2023-06-01' };
  const body = JSON.stringify({
    model: BENCH_MODEL,
    max_tokens: profile.tokens + 64,
    stream: true,
    messages: [{ role: 'user', content: promptOf(profile) }],
  });
  return {
    connect: async () => undefined,
    complete: async (onTokens: TokenSink, signal: AbortSignal): Promise<CompletionSample> => {
      const sample = newSample();
      let outputTokens: number | undefined;
      try {
        await postSse({ url, body, headers, agent, signal }, (data) => {
          const event = JSON.parse(data) as MessagesEvent;
          switch (event.type) {
            case 'content_block_delta': {
              const text = event.delta?.type === 'text_delta' ? event.delta.text : undefined;
              if (!text) return false;
              const at = now();
              const tokens = tokensIn(text);
              sample.firstTokenAt ??= at;
              sample.tokens += tokens;
              sample.events += 1;
              onTokens(tokens, at);
              return false;
            }
            case 'message_delta':
              outputTokens = event.usage?.output_tokens ?? outputTokens;
              return false;
            case 'message_stop':
              sample.finishedAt = now();
              return true;
            case 'error':
              sample.error = `error event: ${event.error?.type ?? ''} ${event.error?.message ?? data}`.trim();
              return true;
            default:
              return false;
          }
        });
        if (sample.error !== null) sample.finishedAt = null;
        else if (sample.finishedAt === null) sample.error = 'the stream ended without message_stop';
        else if (sample.tokens !== profile.tokens) sample.error = `received ${sample.tokens} of ${profile.tokens} tokens`;
        else if (outputTokens !== profile.tokens) sample.error = `usage says ${String(outputTokens)} output tokens`;
      } catch (error) {
        sample.error = failureOf(error, signal);
      }
      return sample;
    },
    close: () => undefined,
  };
}
