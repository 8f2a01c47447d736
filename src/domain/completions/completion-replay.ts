import { terminalEvent, type CompletionEvent } from './completion-event.js';
import type { ToolCallDelta, UpstreamRequest } from './upstream.js';
import type { Completion, StoredEventLog } from './completion-record.js';
import { outputBytesOf, RunningCost } from './live-completion.js';

/**
 * The events of a settled completion, rebuilt from its row once the live log
 * is gone: the same indexes, text and tool-call deltas as were streamed.
 * A completion interrupted by a dead process kept no log; its terminal event
 * comes right after what the reader already has.
 */
export async function* replayFromRow(completion: Completion, after: number): AsyncGenerator<CompletionEvent> {
  const log = (completion.eventLog as StoredEventLog | null) ?? { deltas: [] };
  const running = new RunningCost(completion.request as UpstreamRequest, completion);
  let offset = 0;
  let outputBytes = 0;
  for (const [index, length] of log.deltas.entries()) {
    const delta = completion.content.slice(offset, offset + length);
    offset += length;
    const toolCallDeltas = (log.toolCalls?.[index] as ToolCallDelta[] | undefined) ?? null;
    outputBytes += outputBytesOf(delta, toolCallDeltas);
    if (index > after) {
      yield { completionId: completion.id, index, delta, toolCallDeltas, ...running.at(outputBytes), done: false, completion: null };
    }
  }
  const terminalIndex = completion.eventLog === null ? Math.max(after + 1, 0) : log.deltas.length;
  if (terminalIndex > after) yield terminalEvent(completion, terminalIndex);
}
