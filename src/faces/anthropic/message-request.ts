import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { StartInput } from '../../domain/completions/completion-service.js';
import { MAX_USER_LENGTH } from '../../domain/completions/completion-request.js';
import { invalidRequest, type MessageOrigin } from './anthropic-errors.js';
import { addMessage, addSystem, MessageList } from './content-blocks.js';
import { toolChoiceOf, toolsOf } from './tool-definitions.js';

// An Anthropic Messages body, checked for shape, as the domain's completion
// input. Whether a value is allowed (the model, max_tokens against its
// limit, temperature and top_p ranges and not both, at most 4 stop
// sequences, tool names and schemas) is the domain's to say, as on every
// face.
//
// Accepted and ignored, because the upstream (OpenAI chat completions)
// cannot do them: top_k, thinking, context_management, output_config
// (effort and format), service_tier, speed, inference_geo, container,
// mcp_servers, diagnostics, a top-level cache_control, user_profile_id,
// workspace_id, and any field this gateway does not know yet. Refusing them
// would break Claude Code, which sends several on every call and answers a
// 400 by re-sending up to six times with fewer features.

const bodySchema = z.object({
  model: z.string(),
  max_tokens: z.number().optional(),
  messages: z.array(z.unknown()),
  system: z.unknown().optional(),
  stop_sequences: z.array(z.string()).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stream: z.boolean().nullish(),
  tools: z.unknown().optional(),
  tool_choice: z.unknown().optional(),
  metadata: z.object({ user_id: z.string().nullish() }).nullish(),
});

export interface MessagesRequest {
  input: StartInput;
  stream: boolean;
  /** The model as the caller named it, echoed in the answer (as Anthropic does). */
  model: string;
  /** Where each domain message came from, for error messages in the caller's terms. */
  origins: MessageOrigin[];
}

/**
 * Anthropic's `metadata.user_id` as the domain's end-user id. Claude Code
 * sends a JSON string of about 150 characters (device, account and session
 * ids), which fits and is passed as is; one longer than the domain takes is
 * passed as its SHA-256, which identifies the same user without its content.
 */
function userOf(userId: string | null | undefined): string | undefined {
  if (!userId) return undefined;
  return userId.length <= MAX_USER_LENGTH ? userId : `sha256:${createHash('sha256').update(userId).digest('hex')}`;
}

/**
 * The domain's input for a Messages body (`POST /v1/messages`), or, with
 * `forCounting`, for a count_tokens body, which has no max_tokens.
 * `idempotencyKey` comes from the Idempotency-Key header.
 */
export function parseMessagesRequest(body: unknown, idempotencyKey: string | undefined, forCounting = false): MessagesRequest {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map((key) => (typeof key === 'number' ? key : String(key))) : [];
    throw invalidRequest(path, path.length === 0 ? 'the request body is not a Messages request: send a JSON object with model, max_tokens and messages' : (issue?.message ?? 'is invalid'));
  }
  const r = parsed.data;
  if (r.max_tokens === undefined && !forCounting) throw invalidRequest(['max_tokens'], 'is required');
  // The system prompt is no message in Anthropic's terms, though it is one in the domain's.
  if (r.messages.length === 0) throw invalidRequest(['messages'], 'give at least one message');
  const list = new MessageList();
  addSystem(list, r.system);
  r.messages.forEach((message, i) => addMessage(list, message, i));
  return {
    input: {
      model: r.model,
      messages: list.messages,
      maxTokens: r.max_tokens,
      temperature: r.temperature,
      topP: r.top_p,
      stop: r.stop_sequences,
      tools: toolsOf(r.tools),
      toolChoice: toolChoiceOf(r.tool_choice),
      user: userOf(r.metadata?.user_id),
      idempotencyKey,
      // See the README: Claude Code asks for the model's whole output limit on every call.
      fitMaxTokensToCredits: true,
    },
    stream: r.stream === true,
    model: r.model,
    origins: list.origins,
  };
}
