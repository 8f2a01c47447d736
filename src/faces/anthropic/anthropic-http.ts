import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson } from '../../http/json.js';
import { AnthropicHttpError } from './anthropic-errors.js';

// Reading requests and writing answers in Anthropic's terms. Error bodies
// carry `request_id` (the id the request log gave the request, also the
// `request-id` header of every answer), which the SDKs show in their errors.

export function requestIdOf(req: IncomingMessage): string | undefined {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' ? id : undefined;
}

export function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const value = req.headers['idempotency-key'];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The parsed JSON body; 413 request_too_large above `maxBytes`
 * (MAX_COMPLETION_REQUEST_BYTES), 400 when it is not JSON.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () =>
    new AnthropicHttpError(413, 'request_too_large', `The request body is larger than this gateway's limit of ${maxBytes} bytes (MAX_COMPLETION_REQUEST_BYTES); remove large images or documents from the conversation, or ask the operator to raise the limit.`, {
      'x-should-retry': 'false',
      connection: 'close',
    });
  if (Number(req.headers['content-length']) > maxBytes) throw tooLarge();
  const body = await readBody(req, maxBytes).catch((error: unknown) => {
    throw error instanceof BodyTooLargeError ? tooLarge() : error;
  });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AnthropicHttpError(400, 'invalid_request_error', 'The request body is not valid JSON; send a JSON object with "content-type: application/json".');
  }
}

export function sendError(res: ServerResponse, req: IncomingMessage, error: AnthropicHttpError, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, error.status, error.body(requestIdOf(req)), { ...headers, ...error.headers });
}
