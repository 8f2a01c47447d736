import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unlessEnded, type GuardedStream } from '../../domain/access/key-watch.js';
import type { Viewer } from '../../domain/access/viewer.js';
import type { CompletionEvent } from '../../domain/completions/completion-event.js';
import type { Completion } from '../../domain/completions/completion-record.js';
import { maxTokensOf } from '../../domain/completions/max-tokens-fitting.js';
import { cancelWhenAbandoned } from '../../http/abandoned-completion.js';
import { ClientPresence } from '../../http/client-presence.js';
import { sendJson } from '../../http/json.js';
import type { Logger } from '../../logger.js';
import type { AnthropicFaceDeps } from './anthropic-face.js';
import { AnthropicHttpError, anthropicSpelling, internalError, toAnthropicError } from './anthropic-errors.js';
import { idempotencyKeyOf, readJsonBody, requestIdOf, sendError } from './anthropic-http.js';
import { parseMessagesRequest } from './message-request.js';
import { messageOf, terminalErrorOf } from './message-response.js';
import { MessageEventStream, type StreamEvent } from './message-stream.js';
import { anthropicRateLimitHeaders } from './rate-limit-headers.js';

// POST /v1/messages: the same CompletionService.startStreaming as every
// face (validation, reservation, limits, idempotency), with maxTokens fitted
// to the credits available (see max-tokens-fitting.ts); then the same event
// stream, written as Anthropic's events or waited for and answered as one
// Message. The headers say which completion it is (`x-completion-id`) and
// the max_tokens it runs with (`x-tokenhub-max-tokens`).
//
// A client that goes away before its answer is complete cancels the
// completion, charged only for what was generated; with an Idempotency-Key
// the completion runs on for the retry, which receives it whole (as over
// REST).
//
// A streamed answer holds its headers until the first event or one ping
// interval: an upstream that fails at once is then answered with a real
// status (529, 502, …), which clients retry or report by; later failures
// can only be an `error` event, after which no message_stop comes. While
// the upstream is silent a `ping` goes out every interval, which keeps
// proxies and Claude Code's idle watchdog from closing the stream.

const PING_INTERVAL_MS = 5_000;

function requireApiKey(viewer: Viewer): void {
  if (viewer.kind === 'apiKey') return;
  if (viewer.kind === 'admin') {
    throw new AnthropicHttpError(403, 'permission_error', 'The admin token cannot run completions; use an API key (th-…) of the account to charge.');
  }
  throw new AnthropicHttpError(401, 'authentication_error', 'x-api-key header is required: send an API key (th-…) as x-api-key or as "Authorization: Bearer th-…".');
}

/** The event log ends only with the terminal event, unless the server is stopping. */
const endedEarly = (id: string) => new AnthropicHttpError(503, 'api_error', `The server stopped streaming completion ${id} before it settled; look it up by id, or retry.`);

export async function handleMessages(face: AnthropicFaceDeps, viewer: Viewer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireApiKey(viewer);
  const client = new ClientPresence(res);
  const request = parseMessagesRequest(await readJsonBody(req, face.maxRequestBytes), idempotencyKeyOf(req));
  const { completion, events, rateWindow } = await face.domain.completions.startStreaming(viewer, request.input).catch((error: unknown) => {
    throw toAnthropicError(error, anthropicSpelling(request.origins)) ?? error;
  });
  const log = face.logger.child({ completionId: completion.id, transport: 'anthropic' });
  // A stream the domain ended (the key was revoked) answers its error, and the completion is cancelled.
  const ended = cancelWhenAbandoned(face.domain.completions, viewer, completion, client, log);
  const headers = () => ({ 'x-completion-id': completion.id, 'x-tokenhub-max-tokens': String(maxTokensOf(completion)), ...anthropicRateLimitHeaders(rateWindow) });
  if (request.stream) {
    await streamEvents(req, res, client, events, new MessageEventStream(completion, request.model), headers, log, ended);
    return;
  }
  const settled = await settledOf(events).catch(async (error: unknown) => {
    await ended();
    throw error;
  });
  if (client.gone) return;
  if (settled?.status === 'SUCCEEDED') sendJson(res, 200, messageOf(settled, request.model), headers());
  else sendError(res, req, settled ? terminalErrorOf(settled) : endedEarly(completion.id), headers());
}

async function settledOf(events: GuardedStream<CompletionEvent>): Promise<Completion | undefined> {
  for await (const item of events) {
    const event = unlessEnded(item);
    if (event.done) return event.completion ?? undefined;
  }
  return undefined;
}

const PING_DUE = Symbol('ping due');
const CLIENT_GONE = Symbol('client gone');

async function streamEvents(
  req: IncomingMessage,
  res: ServerResponse,
  client: ClientPresence,
  events: GuardedStream<CompletionEvent>,
  stream: MessageEventStream,
  /** The answer's headers, made when they are sent (x-ratelimit-reset counts from then). */
  headers: () => Record<string, string>,
  log: Logger,
  ended: () => Promise<unknown>,
): Promise<void> {
  const iterator = events[Symbol.asyncIterator]();
  let next = iterator.next();
  // The next event, or PING_DUE after an interval without one (the same
  // `next` is awaited again after the ping), or CLIENT_GONE.
  // An item the domain ended the stream with is thrown (see unlessEnded).
  const nextOrPing = async (): Promise<IteratorResult<CompletionEvent> | typeof PING_DUE | typeof CLIENT_GONE> => {
    let timer: NodeJS.Timeout | undefined;
    const due = new Promise<typeof PING_DUE>((resolve) => (timer = setTimeout(() => resolve(PING_DUE), PING_INTERVAL_MS)));
    try {
      const result = await Promise.race([next, due, client.closed.then((): typeof CLIENT_GONE => CLIENT_GONE)]);
      return typeof result === 'symbol' || result.done ? result : { done: false, value: unlessEnded(result.value) };
    } finally {
      clearTimeout(timer);
    }
  };
  const send = async (event: StreamEvent) => {
    // Waiting for the socket to drain keeps a slow reader from piling up
    // frames in memory; the event log holds what it has not read yet.
    if (!res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)) await Promise.race([once(res, 'drain'), client.closed]);
  };
  try {
    let result = await nextOrPing();
    if (result === CLIENT_GONE) return;
    if (result !== PING_DUE && (result.done || (result.value.done && result.value.completion?.status !== 'SUCCEEDED'))) {
      const settled = result.done ? undefined : result.value.completion;
      sendError(res, req, settled ? terminalErrorOf(settled) : endedEarly(stream.id), headers());
      return;
    }
    res.writeHead(200, {
      ...headers(),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    await send(stream.start());
    let settled: Completion | undefined;
    for (;;) {
      if (result === CLIENT_GONE || client.gone) return;
      if (result === PING_DUE) {
        await send({ type: 'ping' });
      } else if (result.done) {
        break;
      } else if (result.value.done) {
        settled = result.value.completion ?? undefined;
        break;
      } else {
        for (const event of stream.delta(result.value)) await send(event);
        next = iterator.next();
      }
      result = await nextOrPing();
    }
    if (client.gone) return;
    if (settled?.status === 'SUCCEEDED') {
      for (const event of stream.end(settled)) await send(event);
    } else {
      await send({ ...(settled ? terminalErrorOf(settled) : endedEarly(stream.id)).body(requestIdOf(req)) });
    }
  } catch (error) {
    await ended();
    const answer = toAnthropicError(error);
    if (!answer) log.error({ err: error }, 'unexpected error while streaming an Anthropic message');
    if (!res.headersSent) {
      sendError(res, req, answer ?? internalError(), headers());
      return;
    }
    if (!client.gone) await send({ ...(answer ?? internalError()).body(requestIdOf(req)) });
  } finally {
    void iterator.return?.();
  }
  res.end();
}
