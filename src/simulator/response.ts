import { once, type EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CompletionPlan } from './plan.js';
import type { ChatRequest } from './request.js';
import type { SimulatorScript } from './script.js';
import { DONE_LINE, EMPTY_DELTA_JSON, ROLE_DELTA_JSON, createChunkEncoder, type WireUsage } from './sse.js';
import { sendJson } from '../http/json.js';
import { sendError } from './http.js';

export interface ResponseContext {
  res: ServerResponse;
  request: ChatRequest;
  script: SimulatorScript;
  plan: CompletionPlan;
  id: string;
  ttftMs: number;
  interTokenMs: number;
  /** Aborted when the response closes: the client left or the simulator is closing. */
  closed: AbortSignal;
  /** Records that this request ended by a fault rather than normally. */
  markFault(): void;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

/** Resolves false instead of waiting out the delay when the response closes meanwhile. */
async function wait(ms: number, closed: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: closed });
    return true;
  } catch {
    return false;
  }
}

async function drained(stream: EventEmitter, closed: AbortSignal): Promise<boolean> {
  try {
    await once(stream, 'drain', { signal: closed });
    return true;
  } catch {
    return false;
  }
}

function usageOf(plan: CompletionPlan, completionTokens: number, script: SimulatorScript): WireUsage {
  if (script.usage) return script.usage;
  const usage: WireUsage = {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: plan.promptTokens + completionTokens,
  };
  if (script.cachedPromptTokens !== undefined || script.cacheWriteTokens !== undefined) {
    usage.prompt_tokens_details = { cached_tokens: script.cachedPromptTokens ?? 0, cache_write_tokens: script.cacheWriteTokens ?? 0 };
  }
  return usage;
}

/** http500 and http429 answer at once, before any body; true when one did. */
export function answerHttpFault(res: ServerResponse, script: SimulatorScript, markFault: () => void): boolean {
  if (script.fault === 'http500') {
    markFault();
    sendError(res, 500, 'The simulated upstream failed this request (fault=http500).', 'server_error');
    return true;
  }
  if (script.fault === 'http429') {
    markFault();
    const seconds = script.retryAfterSeconds ?? 1;
    const message = `Rate limit reached (simulated, fault=http429). Retry after ${seconds} s.`;
    sendError(res, 429, message, 'requests', 'rate_limit_exceeded', null, { 'retry-after': String(seconds) });
    return true;
  }
  return false;
}

/**
 * Sends a TCP reset once what was written has left: http corks writes until
 * the next tick, so resetting at once would drop the tokens before the fault.
 */
async function reset(res: ServerResponse, closed: AbortSignal): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const socket = res.socket;
  if (socket === null || closed.aborted) return;
  if (socket.writableNeedDrain && !(await drained(socket, closed))) return;
  socket.resetAndDestroy();
}

/** Applies reset, malformed or stall at this point of the response. */
async function strike(ctx: ResponseContext, malformedBody: string): Promise<void> {
  switch (ctx.script.fault) {
    case 'reset':
      ctx.markFault();
      await reset(ctx.res, ctx.closed);
      return;
    case 'malformed':
      ctx.markFault();
      if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'content-type': 'application/json' });
      ctx.res.end(malformedBody);
      return;
    case 'stall':
    default:
      // Nothing more is written; the socket stays open until someone closes it.
      return;
  }
}

export async function streamCompletion(ctx: ResponseContext): Promise<void> {
  const { res, plan, script, closed } = ctx;
  const sendUsage = ctx.request.includeUsage && script.noUsage !== true;
  const encoder = createChunkEncoder({
    id: ctx.id,
    created: script.omitCreated === true ? undefined : Math.floor(Date.now() / 1000),
    model: ctx.request.model,
    usageNull: sendUsage,
  });
  const deltas = plan.deltas;
  const finishInline = script.finishOnLastContent === true && deltas.length > 0;
  // A fault after more tokens than the answer has strikes before the finish chunk.
  const strikeAt = script.fault === undefined ? -1 : Math.min(script.afterTokens ?? 0, deltas.length);

  res.writeHead(200, { ...SSE_HEADERS, 'x-request-id': ctx.id });
  res.flushHeaders();
  if (ctx.ttftMs > 0 && !(await wait(ctx.ttftMs, closed))) return;
  if (script.endless) {
    res.write(encoder.choice(ROLE_DELTA_JSON, null));
    return streamForever(ctx, encoder);
  }

  for (let i = 0; i < deltas.length; i++) {
    if (i > 0 && ctx.interTokenMs > 0 && !(await wait(ctx.interTokenMs, closed))) return;
    if (closed.aborted) return;
    if (i === strikeAt) return strike(ctx, 'data: {not json\n\n');
    if (i === 0) res.write(encoder.choice(ROLE_DELTA_JSON, null));
    const finish = finishInline && i === deltas.length - 1 ? plan.finishReason : null;
    if (!res.write(encoder.choice(JSON.stringify(deltas[i]), finish)) && !(await drained(res, closed))) return;
  }
  if (strikeAt === deltas.length) return strike(ctx, 'data: {not json\n\n');

  if (deltas.length === 0) res.write(encoder.choice(ROLE_DELTA_JSON, null));
  for (const raw of script.rawChunks ?? []) if (!res.write(`data: ${raw}\n\n`) && !(await drained(res, closed))) return;
  if (!finishInline) res.write(encoder.choice(EMPTY_DELTA_JSON, plan.finishReason));
  if (sendUsage) res.write(encoder.usage(usageOf(plan, deltas.length, script)));
  if (script.breakBeforeDone) {
    ctx.markFault();
    return reset(res, closed);
  }
  res.end(DONE_LINE);
}

/** An upstream that never stops: one token per interval (or per drain), until the client closes. */
async function streamForever(ctx: ResponseContext, encoder: ReturnType<typeof createChunkEncoder>): Promise<void> {
  const token = JSON.stringify({ content: 'more ' });
  while (!ctx.closed.aborted) {
    if (!ctx.res.write(encoder.choice(token, null)) && !(await drained(ctx.res, ctx.closed))) return;
    if (!(await wait(ctx.interTokenMs, ctx.closed))) return;
  }
}

export async function sendCompletion(ctx: ResponseContext): Promise<void> {
  const { plan, script } = ctx;
  if (ctx.ttftMs > 0 && !(await wait(ctx.ttftMs, ctx.closed))) return;
  if (script.fault !== undefined) return strike(ctx, '{not json');
  sendJson(
    ctx.res,
    200,
    {
      id: ctx.id,
      object: 'chat.completion',
      ...(script.omitCreated === true ? {} : { created: Math.floor(Date.now() / 1000) }),
      model: ctx.request.model,
      choices: [{ index: 0, message: plan.message, logprobs: null, finish_reason: plan.finishReason }],
      ...(script.noUsage === true ? {} : { usage: usageOf(plan, plan.deltas.length, script) }),
    },
    { 'x-request-id': ctx.id },
  );
}
