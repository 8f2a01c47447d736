import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { OpenAIHttpError } from './openai-errors.js';

/**
 * The parsed JSON body; 413 above `maxBytes` (MAX_REQUEST_BYTES, the same
 * limit as GraphQL's), 400 when it is not JSON.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (Number(req.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
  const body = await readBody(req, maxBytes);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new OpenAIHttpError(400, 'The request body is not valid JSON; send a JSON object with "Content-Type: application/json".', 'invalid_request_error');
  }
}

// Listeners rather than `for await`: leaving that loop early destroys the
// socket, and the client would see a reset instead of the 413. Here the rest
// of an oversized body is drained and discarded while the answer goes out on
// a connection marked to close.
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= maxBytes) {
        parts.push(part);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge(maxBytes));
    };
    const onEnd = () => resolve(Buffer.concat(parts));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: OpenAIHttpError, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, error.status, error.body, { ...headers, ...error.headers });
}
