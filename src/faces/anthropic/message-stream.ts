import type { CompletionEvent } from '../../domain/completions/completion-event.js';
import type { Completion } from '../../domain/completions/completion-record.js';
import type { AnthropicErrorBody } from './anthropic-errors.js';
import { messageIdOf, stopReasonOf, toolUseIdOf, usageOf, type AnthropicMessage, type AnthropicUsage, type StopReason } from './message-response.js';

// A completion's events as Anthropic's stream: message_start, then for each
// content block content_block_start, its deltas (text_delta or
// input_json_delta) and content_block_stop, then message_delta (stop reason
// and the final usage) and message_stop. Blocks are numbered 0, 1, 2, … in
// the order they start, and one is open at a time, as Anthropic streams them.
//
// The domain's events carry text and OpenAI-style tool-call deltas (keyed by
// the call's index; the first delta of a call has its id and name). Text
// after a tool call opens a new text block; a new call index closes the open
// block and opens a tool_use block. When one event carries both (the gateway
// merged chunks a slow reader had not read), the text goes first. An
// upstream that interleaves two calls' argument fragments would send
// fragments for a block already closed; they go to that block's index.
// Usage is only known at the end (OpenAI streams send it last), so
// message_start carries zeros and message_delta the real counts, which the
// SDKs and Claude Code take as the message's usage.

export type StreamEvent =
  | { type: 'message_start'; message: Omit<AnthropicMessage, 'stop_reason'> & { stop_reason: null } }
  | { type: 'content_block_start'; index: number; content_block: { type: 'text'; text: '' } | { type: 'tool_use'; id: string; name: string; input: Record<string, never> } }
  | { type: 'content_block_delta'; index: number; delta: { type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string } }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: StopReason; stop_sequence: null }; usage: AnthropicUsage }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | ({ type: 'error' } & Omit<AnthropicErrorBody, 'type'>);

const noUsage: AnthropicUsage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

export class MessageEventStream {
  private nextIndex = 0;
  private open: { index: number; kind: 'text' | 'tool' } | undefined;
  /** Block index of each tool call, by the upstream's call index. */
  private readonly toolBlocks = new Map<number, number>();
  /** A tool call whose block waits for its whole name (see startNamedTool). */
  private naming: { callIndex: number; id: string; name: string } | undefined;

  constructor(
    private readonly completion: Completion,
    /** The model as the caller named it. */
    private readonly model: string,
  ) {}

  get id(): string {
    return this.completion.id;
  }

  start(): StreamEvent {
    return {
      type: 'message_start',
      message: { id: messageIdOf(this.completion), type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: noUsage },
    };
  }

  delta(event: CompletionEvent): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (event.delta !== '') {
      this.startNamedTool(out);
      if (this.open?.kind !== 'text') this.openBlock(out, 'text', { type: 'text', text: '' });
      out.push({ type: 'content_block_delta', index: this.open!.index, delta: { type: 'text_delta', text: event.delta } });
    }
    for (const call of event.toolCallDeltas ?? []) {
      let index = this.toolBlocks.get(call.index);
      if (index === undefined) {
        if (this.naming?.callIndex === call.index) this.naming.name += call.function?.name ?? '';
        else {
          this.startNamedTool(out);
          this.naming = { callIndex: call.index, id: call.id ?? '', name: call.function?.name ?? '' };
        }
        if (!call.function?.arguments) continue;
        index = this.startNamedTool(out)!;
      }
      const fragment = call.function?.arguments;
      if (fragment) out.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: fragment } });
    }
    return out;
  }

  /**
   * Opens the tool_use block of the call being named, if any; returns its
   * block index. content_block_start carries the tool's whole name, which
   * an upstream may send in pieces: the block opens when the call's
   * arguments begin, or when something else comes (text, another call, the
   * end).
   */
  private startNamedTool(out: StreamEvent[]): number | undefined {
    const naming = this.naming;
    if (naming === undefined) return undefined;
    this.naming = undefined;
    const id = toolUseIdOf(naming.id, this.completion.id, this.toolBlocks.size);
    const index = this.openBlock(out, 'tool', { type: 'tool_use', id, name: naming.name, input: {} });
    this.toolBlocks.set(naming.callIndex, index);
    return index;
  }

  /** The events that end a SUCCEEDED completion. */
  end(settled: Completion): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.startNamedTool(out);
    this.closeBlock(out);
    out.push({ type: 'message_delta', delta: { stop_reason: stopReasonOf(settled), stop_sequence: null }, usage: usageOf(settled) });
    out.push({ type: 'message_stop' });
    return out;
  }

  private openBlock(out: StreamEvent[], kind: 'text' | 'tool', block: Extract<StreamEvent, { type: 'content_block_start' }>['content_block']): number {
    this.closeBlock(out);
    const index = this.nextIndex++;
    out.push({ type: 'content_block_start', index, content_block: block });
    this.open = { index, kind };
    return index;
  }

  private closeBlock(out: StreamEvent[]): void {
    if (this.open) out.push({ type: 'content_block_stop', index: this.open.index });
    this.open = undefined;
  }
}
