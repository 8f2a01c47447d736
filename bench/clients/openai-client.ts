import type { Agent } from 'node:http';
import { promptOf, tokensIn, type Profile } from '../workload.js';
import { failureOf, newSample, now, type ArmClient, type CompletionSample, type TokenSink } from './arm-client.js';
import { postSse } from './http.js';

interface ChunkShape {
  choices?: { delta?: { content?: string | null } }[];
  usage?: { completion_tokens?: number } | null;
  /** The gateway's REST face ends a failed stream with an error event instead of [DONE]. */
  error?: { message?: string; code?: string | null };
}

export interface OpenAIClientOptions {
  /** The base URL, ending in /v1. */
  baseUrl: string;
  model: string;
  /** The bearer token: any string for the fake upstream, a th-… key for the gateway. */
  apiKey: string;
  /** Sent with every request (Portkey's routing headers). */
  headers?: Record<string, string>;
}

/**
 * An OpenAI-compatible streaming client (POST /chat/completions with
 * `stream: true` and `stream_options.include_usage`), as the openai SDKs
 * speak it: the direct arm (the fake upstream), the proxy, Portkey and the
 * gateway's REST face. A completion counts only if it ends with `[DONE]`,
 * carried every token, and its usage chunk says so.
 */
export function openAIClient(options: OpenAIClientOptions, profile: Profile, agent: Agent): ArmClient {
  const url = new URL(`${options.baseUrl}/chat/completions`);
  const headers = { ...options.headers, authorization: `Bearer ${options.apiKey}` };
  const body = JSON.stringify({
    model: options.model,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: profile.tokens + 64,
    messages: [{ role: 'user', content: promptOf(profile) }],
  });
  return {
    connect: async () => undefined,
    complete: async (onTokens: TokenSink, signal: AbortSignal): Promise<CompletionSample> => {
      const sample = newSample();
      let usageTokens: number | undefined;
      try {
        await postSse({ url, body, headers, agent, signal }, (data) => {
          if (data === '[DONE]') {
            sample.finishedAt = now();
            return true;
          }
          const chunk = JSON.parse(data) as ChunkShape;
          if (chunk.error) {
            sample.error ??= `error event: ${chunk.error.code ?? ''} ${chunk.error.message ?? JSON.stringify(chunk.error)}`.trim();
            return true;
          }
          if (chunk.usage) usageTokens = chunk.usage.completion_tokens;
          const content = chunk.choices?.[0]?.delta?.content;
          if (!content) return false;
          const at = now();
          const tokens = tokensIn(content);
          sample.firstTokenAt ??= at;
          sample.tokens += tokens;
          sample.events += 1;
          onTokens(tokens, at);
          return false;
        });
        if (sample.error !== null) sample.finishedAt = null;
        else if (sample.finishedAt === null) sample.error = 'the stream ended without [DONE]';
        else if (sample.tokens !== profile.tokens) sample.error = `received ${sample.tokens} of ${profile.tokens} tokens`;
        else if (usageTokens !== profile.tokens) sample.error = `usage says ${String(usageTokens)} completion tokens`;
      } catch (error) {
        sample.error = failureOf(error, signal);
      }
      return sample;
    },
    close: () => undefined,
  };
}
