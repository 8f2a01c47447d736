import { z } from 'zod';
import type { StartInput } from '../../domain/completions/completion-service.js';
import { dottedPath } from '../../domain/errors.js';
import { OpenAIHttpError } from './openai-errors.js';

// The OpenAI request body, checked for shape only: whether a value is allowed
// (ranges, roles, the model, tools …) is the domain's to say, exactly as for
// GraphQL. Fields OpenAI has and the gateway does not use (frequency_penalty,
// seed, logprobs, parallel_tool_calls …) are dropped; `n` is refused because
// a completion has one choice.

const messageSchema = z.object({
  role: z.string(),
  content: z.unknown().optional(),
  name: z.string().nullish(),
  tool_call_id: z.string().nullish(),
  tool_calls: z.unknown().optional(),
});

const chatRequestSchema = z.object({
  model: z.string(),
  messages: z.array(messageSchema),
  max_tokens: z.number().nullish(),
  max_completion_tokens: z.number().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stop: z.union([z.string(), z.array(z.string())], { error: 'a stop sequence or an array of them' }).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  tools: z.unknown().optional(),
  tool_choice: z.unknown().optional(),
  response_format: z.unknown().optional(),
  user: z.string().nullish(),
  n: z.literal(1, { error: 'the gateway returns one choice per completion; send n = 1 or leave it out' }).nullish(),
});

export interface ChatRequest {
  input: StartInput;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * The domain's completion input for an OpenAI chat completion body.
 * `idempotencyKey` comes from the Idempotency-Key header.
 */
export function parseChatRequest(body: unknown, idempotencyKey: string | undefined): ChatRequest {
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue ? dottedPath(issue.path.map((key) => (typeof key === 'number' ? key : String(key)))) : '';
    const message = issue ? `${param || 'body'}: ${issue.message}` : 'the request body is not a chat completion request';
    throw new OpenAIHttpError(400, message, 'invalid_request_error', null, param || null);
  }
  const r = parsed.data;
  return {
    input: {
      model: r.model,
      messages: r.messages.map((m) => ({
        // OpenAI's newer name for system instructions.
        role: m.role === 'developer' ? 'system' : m.role,
        content: m.content,
        name: m.name,
        toolCallId: m.tool_call_id,
        toolCalls: m.tool_calls,
      })),
      maxTokens: r.max_completion_tokens ?? r.max_tokens,
      temperature: r.temperature,
      topP: r.top_p,
      stop: typeof r.stop === 'string' ? [r.stop] : r.stop,
      tools: r.tools,
      toolChoice: r.tool_choice,
      responseFormat: r.response_format,
      user: r.user,
      idempotencyKey,
    },
    stream: r.stream === true,
    includeUsage: r.stream_options?.include_usage === true,
  };
}
