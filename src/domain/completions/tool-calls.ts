import { UpstreamError, type ToolCallDelta } from './upstream.js';

// The upstream is not trusted: a tool call is one of at most MAX_TOOL_CALLS
// (indexes 0 to MAX_TOOL_CALLS - 1, as a request may offer that many tools),
// with an id and a name of sane length. Anything else fails the completion
// as UPSTREAM_MALFORMED, before it costs memory or time.
const MAX_TOOL_CALLS = 128;
const MAX_ID_LENGTH = 256;
const MAX_NAME_LENGTH = 64;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Builds OpenAI-style tool_calls from their streamed deltas (keyed by index). */
export class ToolCallAssembler {
  private readonly calls: ToolCall[] = [];

  /**
   * The deltas as they are published and stored: every call is announced
   * with an id (one is made from `idFor` when the upstream sent none), and
   * keeps it: a later delta's other id is dropped, so a client that reads
   * the stream and one that reads the assembled calls see the same id.
   */
  normalise(deltas: readonly ToolCallDelta[], idFor: (index: number) => string): ToolCallDelta[] {
    const announced = new Set<number>();
    return deltas.map((delta) => {
      const known = this.calls[delta.index] !== undefined || announced.has(delta.index);
      announced.add(delta.index);
      if (known) {
        if (delta.id === undefined) return delta;
        const { id: _dropped, ...rest } = delta;
        return rest;
      }
      return delta.id ? delta : { ...delta, id: idFor(delta.index) };
    });
  }

  add(deltas: readonly ToolCallDelta[]): void {
    for (const delta of deltas) {
      if (!Number.isInteger(delta.index) || delta.index < 0 || delta.index >= MAX_TOOL_CALLS) {
        throw new UpstreamError('malformed', `The upstream sent a tool call with index ${delta.index}; at most ${MAX_TOOL_CALLS} calls are accepted.`);
      }
      let call = this.calls[delta.index];
      if (!call) {
        call = { id: '', type: 'function', function: { name: '', arguments: '' } };
        this.calls[delta.index] = call;
      }
      if (delta.id && call.id === '') call.id = delta.id;
      if (delta.function?.name) call.function.name += delta.function.name;
      if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
      if (call.id.length > MAX_ID_LENGTH || call.function.name.length > MAX_NAME_LENGTH) {
        throw new UpstreamError('malformed', `The upstream sent a tool call whose id or name is longer than ${MAX_ID_LENGTH} or ${MAX_NAME_LENGTH} characters.`);
      }
    }
  }

  /** The calls so far, or null when there were none. */
  result(): ToolCall[] | null {
    const calls = this.calls.filter(Boolean);
    return calls.length > 0 ? calls : null;
  }
}
