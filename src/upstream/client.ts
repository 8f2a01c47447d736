import { ChatEndpoint } from './chat-endpoint.js';
import { parseChunk, toStreamingParams, toUpstreamChunk } from './openai-mapping.js';
import { toUpstreamError } from './upstream-errors.js';
import { SseDataDecoder } from './sse-decoder.js';
import { StreamDeadline } from './stream-deadline.js';
import { chunkOfWholeCompletion } from './whole-completion.js';
import { UpstreamError, type UpstreamChunk, type UpstreamClient, type UpstreamRequest } from '../domain/completions/upstream.js';

export interface UpstreamClientOptions {
  /** OpenAI-compatible base URL, e.g. `https://tokenhub.store/api/v1`. */
  baseUrl: string;
  apiKey: string;
  /** From the request until the first chunk that carries output (content, tool call, finish or usage). */
  firstByteTimeoutMs: number;
  /** Longest wait for the next chunk after that; time the consumer spends on a chunk does not count. */
  idleTimeoutMs: number;
}

/** A whole chat.completion answered to a streaming request; far above any real answer. */
const MAX_WHOLE_ANSWER_BYTES = 16 * 1024 * 1024;

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const endpoint = new ChatEndpoint(options.baseUrl, options.apiKey);
  return { streamChat: (request, signal) => streamChat(endpoint, options, request, signal) };
}

/**
 * One streamed chat completion, as the chunks the gateway uses. An abort we
 * cause (timeout, caller's signal) is remembered in `stopped`, so the
 * socket error it provokes is reported as what it really was.
 */
async function* streamChat(
  endpoint: ChatEndpoint,
  options: UpstreamClientOptions,
  request: UpstreamRequest,
  signal: AbortSignal,
): AsyncGenerator<UpstreamChunk, void, undefined> {
  if (signal.aborted) throw new UpstreamError('aborted', 'The caller cancelled the upstream request.');
  const controller = new AbortController();
  let stopped: UpstreamError | undefined;
  let sawOutput = false;
  const stop = (reason: UpstreamError): void => {
    if (stopped !== undefined) return;
    stopped = reason;
    controller.abort();
  };
  const onCallerAbort = (): void => stop(new UpstreamError('aborted', 'The caller cancelled the upstream request.'));
  const deadline = new StreamDeadline(() => {
    const message = sawOutput
      ? `The upstream sent nothing for ${options.idleTimeoutMs} ms (idle timeout).`
      : `The upstream sent no output within ${options.firstByteTimeoutMs} ms (first-byte timeout).`;
    stop(new UpstreamError('timeout', message));
  });

  signal.addEventListener('abort', onCallerAbort, { once: true });
  deadline.resume(options.firstByteTimeoutMs);
  let complete = false;
  let finished = false;
  let answered = false;
  try {
    const body = await endpoint.post(JSON.stringify(toStreamingParams(request)), controller.signal);
    answered = true;
    if (/application\/json/i.test(body.headers['content-type'] ?? '')) {
      const pieces: Buffer[] = [];
      let size = 0;
      for await (const piece of body) {
        size += (piece as Buffer).length;
        if (size > MAX_WHOLE_ANSWER_BYTES) throw new UpstreamError('malformed', `The upstream answered more than ${MAX_WHOLE_ANSWER_BYTES} bytes of JSON.`);
        pieces.push(piece as Buffer);
      }
      const whole = chunkOfWholeCompletion(Buffer.concat(pieces).toString('utf8'));
      deadline.pause();
      yield whole;
      complete = true;
      return;
    }
    const reader = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const decoder = new SseDataDecoder();
    const events: string[] = [];
    let ended = false;
    while (!ended) {
      const read = await reader.next();
      if (read.done === true) {
        decoder.end(events);
        ended = true;
      } else decoder.decode(read.value, events);
      for (let i = 0; i < events.length; i++) {
        const data = events[i] as string;
        if (data === '[DONE]') {
          // The protocol's end, even if the server keeps the body open
          // after it. A body that is complete is read to its end, which
          // keeps the connection for the next request.
          ended = true;
          if (body.complete) body.resume();
          else body.destroy();
          break;
        }
        const out = toUpstreamChunk(parseChunk(data));
        if (out === undefined) continue;
        sawOutput = true;
        if (out.finishReason !== undefined) finished = true;
        // The consumer's time with the chunk is not upstream idleness.
        deadline.pause();
        yield out;
        // Chunks already decoded must not outlive a cancel that came during the yield.
        if (stopped !== undefined) throw stopped;
        deadline.resume(options.idleTimeoutMs);
      }
      events.length = 0;
    }
    // Usage may follow the finish_reason, so only the end of the stream is the end.
    if (!finished) throw new UpstreamError('malformed', 'The upstream stream ended without a finish_reason.');
    complete = true;
  } catch (error) {
    // Whatever breaks after the finish_reason (a reset before [DONE], a
    // stall where usage should come, garbage) breaks nothing that was
    // answered: the stream is complete, with the usage it gave or none. Only
    // the caller's own abort still counts as one.
    if (finished && stopped?.kind !== 'aborted') {
      complete = true;
      return;
    }
    throw stopped ?? toUpstreamError(error, options.apiKey, answered);
  } finally {
    deadline.stop();
    signal.removeEventListener('abort', onCallerAbort);
    // Closes the connection when the consumer stopped early or the stream failed.
    if (!complete) controller.abort();
  }
}
