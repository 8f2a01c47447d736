import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson } from '../../http/json.js';
import { OpenAIHttpError } from './openai-errors.js';

/**
 * The parsed JSON body; 413 above `maxBytes` (MAX_COMPLETION_REQUEST_BYTES,
 * the same limit as Anthropic's face), 400 when it is not JSON.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (Number(req.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
  const body = await readBody(req, maxBytes).catch((error: unknown) => {
    throw error instanceof BodyTooLargeError ? tooLarge(maxBytes) : error;
  });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new OpenAIHttpError(400, 'The request body is not valid JSON; send a JSON object with "Content-Type: application/json".', 'invalid_request_error');
  }
}

function tooLarge(maxBytes: number): OpenAIHttpError {
  return new OpenAIHttpError(
    413,
    `The request body is larger than ${maxBytes} bytes; send large images as https URLs.`,
    'invalid_request_error',
    'request_too_large',
    null,
    { connection: 'close' },
  );
}

export function sendError(res: ServerResponse, error: OpenAIHttpError, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, error.status, error.body, { ...headers, ...error.headers });
}
