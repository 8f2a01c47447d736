/**
 * A real HTTP server speaking OpenAI's Chat Completions API: the built-in
 * upstream when no upstream key is configured, and the fake upstream in tests.
 *
 * Endpoints (all need `Authorization: Bearer <anything>`, else 401):
 *   POST /v1/chat/completions   stream true or false
 *   GET  /v1/models             the TokenHub model list
 *
 * Behaviour of a request comes, in this order of precedence, from:
 *   1. the next script queued with `enqueue()` (consumed by the next valid
 *      chat completion request, FIFO),
 *   2. `[sim:…]` directives in the last user message,
 *   3. the defaults: a deterministic answer derived from the prompt, the
 *      simulator's timing, no fault.
 *
 * Directive syntax — anywhere in the last user message, so a human can try
 * failures from GraphiQL. Items are comma-separated inside one directive, or
 * spread over several; directives are removed from the text the answer is
 * derived from; anything not understood answers 400 with the reason.
 *   [sim:fault=http500]                 HTTP 500 with an OpenAI error body
 *   [sim:fault=http429,retryAfter=7]    HTTP 429, `retry-after: 7` (default 1)
 *   [sim:fault=reset,after=3]           3 tokens, then the socket is destroyed
 *   [sim:fault=malformed,after=3]       3 tokens, then `data: {not json`
 *   [sim:fault=stall,after=3]           3 tokens, then silence until the client gives up
 *   [sim:noUsage]                       never send usage
 *   [sim:finishOnLastContent]           finish_reason on the last content chunk
 *   [sim:omitCreated]                   no `created` field
 *   [sim:words=300]                     a default answer of 300 words (= tokens)
 *   [sim:ttft=2000,itl=100]             time to first token / between tokens, in ms
 *   [sim:finish=content_filter]         replace the finish_reason
 *   [sim:cached=100,cacheWrite=20]      report 100 prompt tokens read from a prompt cache, 20 written
 *   [sim:endless]                       ignore max_tokens and never finish
 *   [sim:breakBeforeDone]               reset the connection after the usage, before [DONE]
 *   [sim:hostile=toolIndex]             a chunk an upstream must never send: toolIndex (index
 *                                       50,000,000), notString (content an object), hugeEvent
 *                                       (2 MiB without a line end), nul (text holding U+0000)
 * `after` defaults to 0. Example: "Tell me a story [sim:fault=reset,after=5,noUsage]".
 *
 * Token accounting: one content chunk (or tool-call fragment) is one
 * completion token; prompt tokens are ceil(characters / 4) + 4 per message
 * (see estimatePromptTokens in text.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DirectiveError, parseDirectives } from './directives.js';
import { BodyTooLargeError, readBody, sendJson } from '../http/json.js';
import { sendError } from './http.js';
import { planCompletion } from './plan.js';
import { InvalidRequestError, parseChatRequest, type ChatRequest, type WireMessage } from './request.js';
import { answerHttpFault, sendCompletion, streamCompletion } from './response.js';
import type { SimulatorScript } from './script.js';
import { textOf } from './text.js';

export type { SimulatorFault, SimulatorScript } from './script.js';

export interface SimulatorTiming {
  /** Delay before the first chunk after the headers. */
  ttftMs: number;
  /** Delay between two token chunks. */
  interTokenMs: number;
}

export interface SimulatorOptions extends Partial<SimulatorTiming> {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Oldest records are dropped beyond this, so a long-running built-in upstream does not grow. Default 1000. */
  maxRecordedRequests?: number;
}

export type SimulatorOutcome = 'completed' | 'client-closed' | 'fault';

export interface SimulatorRequestRecord {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** The parsed JSON body; undefined when there was none or it was not JSON. */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  /** True once the client closed the connection before the response was complete. */
  closedByClient: boolean;
  /** How the response ended; a simulator closing under a request counts as 'fault'. */
  finished: Promise<SimulatorOutcome>;
}

export interface Simulator {
  /** What to give the openai SDK as `baseURL`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly baseUrl: string;
  readonly requests: SimulatorRequestRecord[];
  setTiming(timing: Partial<SimulatorTiming>): void;
  /** The next chat completion request behaves as scripted. */
  enqueue(script: SimulatorScript): void;
  /** Stops listening and destroys every open connection, stalled ones included. */
  close(): Promise<void>;
}

const MODEL_IDS = [
  'anthropic/claude-opus-4-7',
  'anthropic/claude-opus-4-6',
  'anthropic/claude-sonnet-4-6',
  'anthropic/claude-haiku-4-5',
  'anthropic/claude-sonnet-4-5',
  'anthropic/claude-opus-4-5',
  'anthropic/claude-4-sonnet',
  'anthropic/claude-4-opus',
  'anthropic/claude-3-5-sonnet-latest',
  'anthropic/claude-3-5-haiku-latest',
];
/** A fixed date keeps /v1/models byte-for-byte stable. */
const MODELS_CREATED = 1_767_225_600;
/** Large enough for a few base64 images in a vision request. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

interface Tracked {
  record: SimulatorRequestRecord;
  closed: AbortSignal;
  markFault(): void;
}

function lastUserText(messages: WireMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as WireMessage;
    if (message.role === 'user') return textOf(message.content);
  }
  return '';
}

function isAuthorized(req: IncomingMessage): boolean {
  return /^Bearer\s+\S/i.test(req.headers.authorization ?? '');
}

function shortId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 24);
}

class SimulatorServer implements Simulator {
  readonly requests: SimulatorRequestRecord[] = [];
  baseUrl = '';
  private readonly server = createServer((req, res) => this.handle(req, res));
  private readonly queue: SimulatorScript[] = [];
  private readonly timing: SimulatorTiming;
  private readonly maxRecords: number;
  private closing = false;

  constructor(options: SimulatorOptions) {
    this.timing = { ttftMs: options.ttftMs ?? 0, interTokenMs: options.interTokenMs ?? 0 };
    this.maxRecords = options.maxRecordedRequests ?? 1000;
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/v1`;
  }

  setTiming(timing: Partial<SimulatorTiming>): void {
    if (timing.ttftMs !== undefined) this.timing.ttftMs = timing.ttftMs;
    if (timing.interTokenMs !== undefined) this.timing.interTokenMs = timing.interTokenMs;
  }

  enqueue(script: SimulatorScript): void {
    this.queue.push(script);
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const tracked = this.track(req, res);
    this.route(req, res, tracked).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendError(res, 500, `The simulator failed unexpectedly: ${String(error)}`, 'server_error');
    });
  }

  /** Records the request and settles `finished` when its response closes. */
  private track(req: IncomingMessage, res: ServerResponse): Tracked {
    let faulted = false;
    let settle!: (outcome: SimulatorOutcome) => void;
    const closed = new AbortController();
    const record: SimulatorRequestRecord = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?', 1)[0] as string,
      body: undefined,
      headers: req.headers,
      receivedAt: Date.now(),
      closedByClient: false,
      finished: new Promise((resolve) => (settle = resolve)),
    };
    res.once('close', () => {
      closed.abort();
      if (faulted) settle('fault');
      else if (res.writableFinished) settle('completed');
      else if (this.closing) settle('fault');
      else {
        record.closedByClient = true;
        settle('client-closed');
      }
    });
    this.requests.push(record);
    if (this.requests.length > this.maxRecords) this.requests.shift();
    return { record, closed: closed.signal, markFault: () => (faulted = true) };
  }

  private async route(req: IncomingMessage, res: ServerResponse, tracked: Tracked): Promise<void> {
    const { method, path } = tracked.record;
    const chat = method === 'POST' && path === '/v1/chat/completions';
    const models = method === 'GET' && path === '/v1/models';
    if (!chat && !models) {
      sendError(res, 404, `Unknown request URL: ${method} ${path}.`, 'invalid_request_error', 'unknown_url');
      return;
    }
    if (!isAuthorized(req)) {
      const message =
        "You didn't provide an API key. You need to provide your API key in an Authorization header " +
        'using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).';
      sendError(res, 401, message, 'invalid_request_error');
      return;
    }
    if (models) {
      sendJson(res, 200, {
        object: 'list',
        data: MODEL_IDS.map((id) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'anthropic' })),
      });
      return;
    }
    await this.chatCompletion(req, res, tracked);
  }

  /** The request and its directives, or undefined after answering 400. */
  private parseOrReject(
    res: ServerResponse,
    body: unknown,
  ): { request: ChatRequest; directives: ReturnType<typeof parseDirectives> } | undefined {
    try {
      const request = parseChatRequest(body);
      return { request, directives: parseDirectives(lastUserText(request.messages)) };
    } catch (error) {
      if (error instanceof InvalidRequestError) sendError(res, 400, error.message, 'invalid_request_error', null, error.param);
      else if (error instanceof DirectiveError) sendError(res, 400, error.message, 'invalid_request_error');
      else throw error;
      return undefined;
    }
  }

  private async chatCompletion(req: IncomingMessage, res: ServerResponse, tracked: Tracked): Promise<void> {
    let raw: string;
    try {
      raw = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) sendError(res, 413, error.message, 'invalid_request_error', null, null, { connection: 'close' });
      else res.destroy();
      return;
    }
    try {
      tracked.record.body = JSON.parse(raw);
    } catch {
      sendError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
      return;
    }

    const parsed = this.parseOrReject(res, tracked.record.body);
    if (parsed === undefined) return;
    const { request, directives } = parsed;

    const script: SimulatorScript = { ...directives.script, ...this.queue.shift() };
    if (answerHttpFault(res, script, tracked.markFault)) return;
    const plan = planCompletion(request, script, directives.text, `call_${shortId()}`);
    const context = {
      res,
      request,
      script,
      plan,
      id: `chatcmpl-${shortId()}`,
      ttftMs: script.ttftMs ?? this.timing.ttftMs,
      interTokenMs: script.interTokenMs ?? this.timing.interTokenMs,
      closed: tracked.closed,
      markFault: tracked.markFault,
    };
    await (request.stream ? streamCompletion(context) : sendCompletion(context));
  }
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = new SimulatorServer(options);
  await simulator.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return simulator;
}
