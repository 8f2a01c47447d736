import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { UpstreamError } from '../domain/completions/upstream.js';
import { statusError } from './upstream-errors.js';

/** An error answer is read up to this for its message; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The upstream's `POST /chat/completions` over node:http(s), with keep-alive
 * connections. The gateway builds the body itself and reads the answer as a
 * Node stream: through the openai SDK (its request building, headers,
 * per-request abort signals and WHATWG Response objects) the same request
 * cost 2.5× the CPU (`npm run bench:upstream-client`). No
 * `accept-encoding` is sent, so bodies come uncompressed.
 */
export class ChatEndpoint {
  readonly #url: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #authorization: string;

  constructor(baseUrl: string, apiKey: string) {
    // `…/v1` and `…/v1/` both mean the same base.
    this.#url = new URL(`${baseUrl.replace(/\/+$/, '')}/chat/completions`);
    const https = this.#url.protocol === 'https:';
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? httpsRequest : httpRequest;
    this.#authorization = `Bearer ${apiKey}`;
  }

  /**
   * Sends `body` and resolves with the answer once it is a 2xx; any other
   * status rejects with its UpstreamError (kind `http`, `refused` or
   * `rate_limited`), a failed connection with the socket's error. An abort of `signal`
   * destroys the request, or only drains a body that fully arrived, so its
   * connection serves the next request; whoever reads the body sees the
   * abort through it.
   */
  post(body: string, signal: AbortSignal): Promise<IncomingMessage> {
    if (signal.aborted) return Promise.reject(new UpstreamError('aborted', 'The caller cancelled the upstream request.'));
    return new Promise((resolve, reject) => {
      let answer: IncomingMessage | undefined;
      const request = this.#request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            authorization: this.#authorization,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            accept: 'application/json',
          },
        },
        (message) => {
          answer = message;
          // An abort or reset also errors the body; whoever reads it sees
          // that through its iterator, and nobody reading must not crash.
          message.on('error', () => undefined);
          const status = message.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(message);
            return;
          }
          errorText(message).then((text) => reject(statusError(status, message.headers, text)), reject);
        },
      );
      // Later errors (an abort after the answer came) reach the body, not this promise.
      request.on('error', reject);
      // A protocol switch hands the socket over instead of answering: no
      // timeout or abort would reach it, so it is closed here.
      request.once('upgrade', (message: IncomingMessage, socket: Duplex) => {
        socket.destroy();
        reject(new UpstreamError('http', `The upstream answered HTTP ${message.statusCode ?? 101} (a protocol switch) to a chat completion.`, { status: message.statusCode }));
      });
      const abort = (): void => {
        if (answer?.complete) answer.resume();
        else request.destroy(new DOMException('This operation was aborted', 'AbortError'));
      };
      signal.addEventListener('abort', abort, { once: true });
      request.once('close', () => signal.removeEventListener('abort', abort));
      request.end(body);
    });
  }
}

/** The start of an error answer's body, as text; a longer body is cut off there. */
function errorText(message: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(parts).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8'));
    message.on('data', (part: Buffer) => {
      parts.push(part);
      size += part.length;
      if (size < MAX_ERROR_BODY_BYTES) return;
      message.destroy();
      done();
    });
    message.once('end', done);
    message.once('error', reject);
  });
}
