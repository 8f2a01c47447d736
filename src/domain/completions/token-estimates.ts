import { costOf } from '../money.js';
import { stringBytes } from './json-limits.js';
import type { Prices } from './prompt-cache-pricing.js';
import type { UpstreamRequest } from './upstream.js';

// Token counts the gateway must guess, documented in the README:
//
// - The reservation must cover the worst case, so the prompt is counted as
//   one token per UTF-8 byte of everything forwarded upstream (no tokenizer
//   produces more tokens than bytes): every string of every message, its
//   name, toolCallId and tool calls, the tools and their schemas, the
//   response format, the stop sequences and the user id; plus 8 per message,
//   1,600 per image (Claude scales images down to at most about 1,600
//   tokens; its URL or data is not text the model reads) and, when tools are
//   given, the tool-use system prompt Claude adds (at most 500 tokens).
//   Reservations are released at settlement, so over-estimating costs the
//   customer nothing.
// - When the upstream reports no usage, the charge uses the common estimate of
//   one token per 4 UTF-8 bytes, of the prompt and of the generated text, and
//   the completion is marked `usage.estimated`.

const PER_MESSAGE = 8;
const PER_IMAGE = 1600;
export const TOOL_USE_PROMPT_TOKENS = 500;
const BYTES_PER_ESTIMATED_TOKEN = 4;

const isImagePart = (part: Record<string, unknown>) => part.type === 'image_url';

function walkText(request: UpstreamRequest, visit: (text: string) => void): number {
  let images = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') visit(message.content);
    else if (Array.isArray(message.content)) {
      for (const part of message.content as { type?: string; text?: string }[]) {
        if (part.type === 'image_url') images += 1;
        else if (typeof part.text === 'string') visit(part.text);
      }
    }
    if (message.toolCalls) visit(JSON.stringify(message.toolCalls));
  }
  if (request.tools) visit(JSON.stringify(request.tools));
  if (request.responseFormat) visit(JSON.stringify(request.responseFormat));
  return images;
}

function byteLengthOf(request: UpstreamRequest): { bytes: number; images: number } {
  let bytes = 0;
  const images = walkText(request, (text) => {
    bytes += Buffer.byteLength(text);
  });
  return { bytes, images };
}

/** Every byte the upstream receives as text, images at their cap, tools with Claude's own prompt. */
export function worstCasePromptTokens(request: UpstreamRequest): number {
  let tokens = 0;
  for (const message of request.messages) {
    tokens += PER_MESSAGE + stringBytes(message, isImagePart);
    if (Array.isArray(message.content)) tokens += PER_IMAGE * (message.content as Record<string, unknown>[]).filter(isImagePart).length;
  }
  if (request.tools) tokens += stringBytes(request.tools) + TOOL_USE_PROMPT_TOKENS;
  for (const extra of [request.toolChoice, request.responseFormat, request.stop, request.user]) tokens += stringBytes(extra);
  return tokens;
}

export function estimatedPromptTokens(request: UpstreamRequest): number {
  const { bytes, images } = byteLengthOf(request);
  return Math.ceil(bytes / BYTES_PER_ESTIMATED_TOKEN) + PER_MESSAGE * request.messages.length + PER_IMAGE * images;
}

/** The bytes of output above which an upstream has surely sent more than one token per this many. */
const MOST_BYTES_PER_TOKEN = 16;

/**
 * A lower bound of the output tokens the upstream sent: every chunk with
 * output carries at least one, and no tokenizer of Claude's averages more
 * than 16 bytes a token over a whole answer. Used to cut an upstream that
 * goes past maxTokens without ever cutting one that did not.
 */
export function fewestOutputTokens(outputChunks: number, outputBytes: number): number {
  return Math.max(outputChunks, Math.ceil(outputBytes / MOST_BYTES_PER_TOKEN));
}

/** A lower bound of the prompt tokens: the text forwarded, at the same most bytes a token. */
export function fewestPromptTokens(request: UpstreamRequest): number {
  return Math.ceil(byteLengthOf(request).bytes / MOST_BYTES_PER_TOKEN);
}

export function estimatedOutputTokens(outputBytes: number): number {
  return Math.ceil(outputBytes / BYTES_PER_ESTIMATED_TOKEN);
}

/** The output bytes that `tokens` tokens are estimated to hold. */
export function estimatedOutputBytes(tokens: number): number {
  return tokens * BYTES_PER_ESTIMATED_TOKEN;
}

/**
 * What a completion may cost at most: the amount reserved when it starts.
 * The prompt is priced as uncached input: cache reads cost less; a cache
 * write costs 1.25× (by default), which the one-token-per-byte count above
 * covers unless a prompt had more than 0.8 tokens per byte (no text has),
 * and the charge is capped at the reservation in any case.
 */
export function worstCaseCost(request: UpstreamRequest, prices: Pick<Prices, 'inputPricePerMillion' | 'outputPricePerMillion'>): bigint {
  return costOf(worstCasePromptTokens(request), prices.inputPricePerMillion) + costOf(request.maxTokens, prices.outputPricePerMillion);
}
