import { request, type Agent } from 'node:http';
import { SseDataDecoder } from '../../src/upstream/sse-decoder.js';

// Plain node:http for the HTTP clients of every arm: the load generator
// shares two cores with the servers it measures, so it must cost little.

export interface PostOptions {
  url: URL;
  body: string;
  headers: Record<string, string>;
  agent: Agent;
  signal: AbortSignal;
}

export class HttpStatusError extends Error {}

function post(options: PostOptions, accept: string, onBody: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      options.url,
      {
        method: 'POST',
        agent: options.agent,
        signal: options.signal,
        headers: { ...options.headers, accept, 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new HttpStatusError(`HTTP ${res.statusCode ?? '?'} from ${options.url.pathname}`));
          return;
        }
        res.on('data', onBody);
        res.once('end', resolve);
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(options.body);
  });
}

/** POSTs a JSON body and parses the JSON answer. */
export async function postJson(options: PostOptions): Promise<unknown> {
  const parts: Buffer[] = [];
  await post(options, 'application/json', (chunk) => parts.push(chunk));
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

/**
 * POSTs a JSON body and hands over the `data` of each Server-Sent Event as
 * it arrives; resolves when the response ends. Once `onData` returns true
 * the stream is complete and the rest is only read to the end, so the
 * keep-alive socket can serve the next request.
 */
export async function postSse(options: PostOptions, onData: (data: string) => boolean): Promise<void> {
  const decoder = new SseDataDecoder();
  const events: string[] = [];
  let complete = false;
  await post(options, 'text/event-stream', (chunk) => {
    if (complete) return;
    decoder.decode(chunk, events);
    for (const data of events) {
      if (onData(data)) {
        complete = true;
        break;
      }
    }
    events.length = 0;
  });
}
