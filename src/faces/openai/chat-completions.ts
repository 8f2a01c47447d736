import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../../domain/access/viewer.js';
import { unlessEnded, type GuardedStream } from '../../domain/access/key-watch.js';
import type { CompletionEvent } from '../../domain/completions/completion-event.js';
import type { Completion } from '../../domain/completions/completion-record.js';
import { cancelWhenAbandoned } from '../../http/abandoned-completion.js';
import { ClientPresence } from '../../http/client-presence.js';
import { sendJson } from '../../http/json.js';
import type { Logger } from '../../logger.js';
import { parseChatRequest } from './chat-request.js';
import { chatCompletionOf, ChunkStream, terminalErrorOf } from './chat-response.js';
import { readJsonBody, sendError } from './http-json.js';
import { internalError, OpenAIHttpError, toOpenAIError } from './openai-errors.js';
import type { OpenAIFaceDeps } from './openai-face.js';
import { openAIRateLimitHeaders } from './rate-limit-headers.js';

// POST /v1/chat/completions: the same CompletionService.startStreaming as the
// startCompletion mutation (validation, reservation, idempotency), then the
// same event stream as the completionStream subscription, written as OpenAI
// chunks or waited for and answered as one chat.completion.
//
// A client that goes away before its answer is complete cancels the
// completion: it is charged only for what was generated, as with
// cancelCompletion. Unless the request carried an Idempotency-Key: that
// client said it will retry, so the completion runs on and is charged
// normally, and the retry (same key) re-attaches to it and receives the whole
// answer from its first event. A completion that does not succeed answers with an OpenAI
// error (terminalErrorOf): the response of a non-streaming request; in a
// stream, already 200, a last `data: {"error": …}` event without `[DONE]`,
// which the openai SDKs raise as an APIError.

function requireApiKey(viewer: Viewer): void {
  if (viewer.kind === 'apiKey') return;
  if (viewer.kind === 'admin') {
    throw new OpenAIHttpError(403, 'The admin token cannot run completions here; use an API key (th-…) of the account to charge.', 'permission_error', 'forbidden');
  }
  throw new OpenAIHttpError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer th-…).",
    'invalid_request_error',
    'missing_api_key',
  );
}

function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const value = req.headers['idempotency-key'];
  return Array.isArray(value) ? value[0] : value;
}

export async function handleChatCompletion(face: OpenAIFaceDeps, viewer: Viewer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireApiKey(viewer);
  const client = new ClientPresence(res);
  const request = parseChatRequest(await readJsonBody(req, face.maxRequestBytes), idempotencyKeyOf(req));
  const { completion, events, rateWindow } = await face.domain.completions.startStreaming(viewer, request.input);
  const log = face.logger.child({ completionId: completion.id, transport: 'rest' });
  // A stream the domain ended (the key was revoked) answers its error, and the completion is cancelled.
  const ended = cancelWhenAbandoned(face.domain.completions, viewer, completion, client, log);
  // Made when they are sent: x-ratelimit-reset counts from then.
  const headers = () => ({ 'x-completion-id': completion.id, ...openAIRateLimitHeaders(rateWindow) });
  if (request.stream) {
    await streamChunks(res, client, events, new ChunkStream(completion, request.includeUsage), headers(), log, ended);
    return;
  }
  const settled = await settledOf(events).catch(async (error: unknown) => {
    await ended();
    throw error;
  });
  if (client.gone) return;
  if (settled?.status === 'SUCCEEDED') sendJson(res, 200, chatCompletionOf(settled), headers());
  else sendError(res, settled ? terminalErrorOf(settled) : endedEarly(completion.id), headers());
}

async function settledOf(events: GuardedStream<CompletionEvent>): Promise<Completion | undefined> {
  for await (const item of events) {
    const event = unlessEnded(item);
    if (event.done) return event.completion ?? undefined;
  }
  return undefined;
}

/** The event log ends only with the terminal event, unless the server is stopping. */
const endedEarly = (id: string) =>
  new OpenAIHttpError(503, `the server stopped streaming completion ${id} before it settled; look it up by id`, 'server_error', 'stream_ended');

async function streamChunks(
  res: ServerResponse,
  client: ClientPresence,
  events: GuardedStream<CompletionEvent>,
  chunks: ChunkStream,
  headers: Record<string, string>,
  log: Logger,
  ended: () => Promise<unknown>,
): Promise<void> {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  const send = async (data: unknown) => {
    // Waiting for the socket to drain keeps a slow reader from piling up
    // chunks in memory; the event log holds what it has not read yet.
    if (!res.write(`data: ${JSON.stringify(data)}\n\n`)) await Promise.race([once(res, 'drain'), client.closed]);
  };
  try {
    await send(chunks.role());
    let settled: Completion | undefined;
    for await (const item of events) {
      if (client.gone) return;
      const event = unlessEnded(item);
      if (event.done) {
        settled = event.completion ?? undefined;
        break;
      }
      await send(chunks.delta(event));
    }
    if (client.gone) return;
    if (settled?.status === 'SUCCEEDED') {
      for (const chunk of chunks.end(settled)) await send(chunk);
      res.end('data: [DONE]\n\n');
      return;
    }
    await send((settled ? terminalErrorOf(settled) : endedEarly(chunks.id)).body);
  } catch (error) {
    await ended();
    const answer = toOpenAIError(error);
    if (!answer) log.error({ err: error }, 'unexpected error while streaming a REST completion');
    if (!client.gone) await send((answer ?? internalError()).body);
  }
  res.end();
}
