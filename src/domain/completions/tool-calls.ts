import type { ToolCallDelta } from './upstream.js';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Builds OpenAI-style tool_calls from their streamed deltas (keyed by index). */
export class ToolCallAssembler {
  private readonly calls: ToolCall[] = [];

  add(deltas: readonly ToolCallDelta[]): void {
    for (const delta of deltas) {
      let call = this.calls[delta.index];
      if (!call) {
        call = { id: '', type: 'function', function: { name: '', arguments: '' } };
        this.calls[delta.index] = call;
      }
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.function.name += delta.function.name;
      if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
    }
  }

  /** The calls so far, or null when there were none. */
  result(): ToolCall[] | null {
    const calls = this.calls.filter(Boolean);
    return calls.length > 0 ? calls : null;
  }
}
