import type { Completion } from './completion-record.js';
import type { ToolCallDelta } from './upstream.js';

/**
 * One event of a completion's stream. Indexes run 0, 1, 2, … without gaps;
 * the last event has `done` and the settled completion.
 */
export interface CompletionEvent {
  completionId: string;
  index: number;
  /** Text since the previous event; several upstream tokens when a reader fell behind. */
  delta: string;
  toolCallDeltas: ToolCallDelta[] | null;
  /** Output tokens so far: the upstream's count on the last event, an estimate before. */
  outputTokens: number;
  /** Credits so far, at the completion's prices: what was charged, on the last event. */
  cost: bigint;
  done: boolean;
  completion: Completion | null;
}

/** The last event of a stream: the settled completion, what it charged, nothing more to read. */
export function terminalEvent(completion: Completion, index: number): CompletionEvent {
  return {
    completionId: completion.id,
    index,
    delta: '',
    toolCallDeltas: null,
    outputTokens: completion.completionTokens ?? 0,
    cost: completion.cost ?? 0n,
    done: true,
    completion,
  };
}
