import type { WireUsage } from './sse.js';

export type SimulatorFault =
  /** Answer HTTP 500 with an OpenAI error body. */
  | 'http500'
  /** Answer HTTP 429 with a `retry-after` header. */
  | 'http429'
  /** Destroy the socket after `afterTokens` tokens. */
  | 'reset'
  /** Send a `data: {not json` line after `afterTokens` tokens, then end the response. */
  | 'malformed'
  /** Send `afterTokens` tokens, then nothing; the socket stays open until the client or the simulator closes it. */
  | 'stall';

export const SIMULATOR_FAULTS: readonly SimulatorFault[] = ['http500', 'http429', 'reset', 'malformed', 'stall'];

/** How one request should behave. Every field is optional; unset fields keep the default behaviour. */
export interface SimulatorScript {
  /** The answer text, split into one token per word (whitespace kept). */
  text?: string;
  /** The exact content deltas, one chunk each. Wins over `text`. */
  tokens?: string[];
  /**
   * Tool calls to answer with (finish_reason `tool_calls`), after the text
   * when `text` or `tokens` is set. Arguments given as an object are sent as
   * its JSON; a string is sent as it is (malformed on purpose, say).
   */
  toolCalls?: { name: string; arguments: Record<string, unknown> | string }[];
  /** Length of the default answer in words (= tokens). */
  words?: number;
  fault?: SimulatorFault;
  /** Tokens sent before `reset`, `malformed` or `stall` strike. Default 0. */
  afterTokens?: number;
  /** The `retry-after` header of `http429`. Default 1. */
  retryAfterSeconds?: number;
  /** Never send usage, even when `stream_options.include_usage` asks for it. */
  noUsage?: boolean;
  /** Put finish_reason on the last content chunk instead of a separate chunk. */
  finishOnLastContent?: boolean;
  /** Leave the `created` field out of every chunk. */
  omitCreated?: boolean;
  /** Reported instead of the true counts: an upstream whose usage cannot be trusted (negative, fractional, huge). */
  usage?: WireUsage;
  /** Of the prompt tokens, reported as read from a prompt cache (`prompt_tokens_details.cached_tokens`). */
  cachedPromptTokens?: number;
  /** Of the prompt tokens, reported as written to a prompt cache (`prompt_tokens_details.cache_write_tokens`). */
  cacheWriteTokens?: number;
  /** Replaces the natural finish_reason, e.g. `content_filter`. */
  finishReason?: string;
  ttftMs?: number;
  interTokenMs?: number;
  /** After the finish chunk and the usage, reset the connection instead of sending `[DONE]`. */
  breakBeforeDone?: boolean;
  /** Ignore max_tokens and never finish: tokens until the client goes away. */
  endless?: boolean;
  /** `data:` payloads sent verbatim after the planned tokens and before the finish chunk (hostile chunks). */
  rawChunks?: string[];
}
