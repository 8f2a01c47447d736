import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../../domain/access/viewer.js';
import { sendJson } from '../../http/json.js';
import type { AnthropicFaceDeps } from './anthropic-face.js';
import { anthropicSpelling, toAnthropicError } from './anthropic-errors.js';
import { readJsonBody } from './anthropic-http.js';
import { parseMessagesRequest } from './message-request.js';

// POST /v1/messages/count_tokens: the body of a Messages request without
// max_tokens, validated exactly as one, answered `{ input_tokens }` with the
// domain's prompt estimate (one token per 4 UTF-8 bytes, plus per message
// and per image; the gateway has no tokenizer of Claude's). It needs a key
// (or the admin token) but starts, reserves and charges nothing.

export async function handleCountTokens(face: AnthropicFaceDeps, viewer: Viewer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = parseMessagesRequest(await readJsonBody(req, face.maxRequestBytes), undefined, true);
  const tokens = await face.domain.completions.countPromptTokens(viewer, request.input).catch((error: unknown) => {
    throw toAnthropicError(error, anthropicSpelling(request.origins)) ?? error;
  });
  sendJson(res, 200, { input_tokens: tokens });
}
