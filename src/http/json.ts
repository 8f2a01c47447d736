import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

// Plain node:http helpers shared by the gateway's REST face and the upstream
// simulator; they know nothing of either.

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The request body is larger than ${maxBytes} bytes.`);
  }
}

/**
 * The whole request body; rejects with BodyTooLargeError beyond `maxBytes`.
 * Listeners rather than `for await`: leaving that loop early destroys the
 * socket, and the client would see a reset instead of the 413. Here the rest
 * of an oversized body is drained and discarded while the caller answers
 * (on a connection it should mark to close).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
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
      reject(new BodyTooLargeError(maxBytes));
    };
    const onEnd = () => resolve(Buffer.concat(parts));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
