import type { Agent } from 'node:http';
import { promptOf, tokensIn, type Profile } from '../workload.js';
import { failureOf, newSample, now, type ArmClient, type CompletionSample, type TokenSink } from './arm-client.js';
import { postSse } from './http.js';

interface ChunkShape {
  choices?: { delta?: { content?: string | null } }[];
}

/**
 * An OpenAI-compatible streaming client: the "upstream direct" arm against
 * the fake upstream, and the "thin proxy" arm against the pass-through proxy.
 */
export function directClient(baseUrl: string, profile: Profile, agent: Agent): ArmClient {
  const url = new URL(`${baseUrl}/chat/completions`);
  const body = JSON.stringify({
    model: 'anthropic/claude-haiku-4-5',
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: profile.tokens + 64,
    messages: [{ role: 'user', content: promptOf(profile) }],
  });
  return {
    connect: async () => undefined,
    complete: async (onTokens: TokenSink, signal: AbortSignal): Promise<CompletionSample> => {
      const sample = newSample();
      try {
        await postSse({ url, body, headers: { authorization: 'Bearer bench' }, agent, signal }, (data) => {
          if (data === '[DONE]') {
            sample.finishedAt = now();
            return true;
          }
          const content = (JSON.parse(data) as ChunkShape).choices?.[0]?.delta?.content;
          if (!content) return false;
          const at = now();
          const tokens = tokensIn(content);
          sample.firstTokenAt ??= at;
          sample.tokens += tokens;
          sample.events += 1;
          onTokens(tokens, at);
          return false;
        });
        if (sample.finishedAt === null) sample.error = 'the stream ended without [DONE]';
        else if (sample.tokens !== profile.tokens) sample.error = `received ${sample.tokens} of ${profile.tokens} tokens`;
      } catch (error) {
        sample.error = failureOf(error, signal);
      }
      return sample;
    },
    close: () => undefined,
  };
}
