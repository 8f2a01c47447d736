import { terminalEvent } from './completion-event.js';
import type { CompletionEventLog } from './event-log.js';
import type { Completion, StoredEventLog } from './completion-record.js';
import { costOf } from '../money.js';
import type { ToolCallDelta, UpstreamRequest, UpstreamUsage } from './upstream.js';
import { estimatedOutputTokens, estimatedPromptTokens } from './token-estimates.js';
import { ToolCallAssembler } from './tool-calls.js';

/** UTF-8 bytes of generated output in one event: its text and tool-call fragments. */
export function outputBytesOf(text: string, toolCallDeltas: readonly ToolCallDelta[] | null): number {
  let bytes = Buffer.byteLength(text);
  for (const d of toolCallDeltas ?? []) bytes += Buffer.byteLength(d.function?.name ?? '') + Buffer.byteLength(d.function?.arguments ?? '');
  return bytes;
}

/**
 * The running cost shown on events before the upstream reports usage: the
 * estimated prompt plus the estimated output so far. Live streams and
 * replays from Postgres compute it the same way, so both show the same values.
 */
export class RunningCost {
  private readonly promptCost: bigint;

  constructor(
    request: UpstreamRequest,
    private readonly completion: Pick<Completion, 'inputPricePerMillion' | 'outputPricePerMillion'>,
  ) {
    this.promptCost = costOf(estimatedPromptTokens(request), completion.inputPricePerMillion);
  }

  at(outputBytes: number): { outputTokens: number; cost: bigint } {
    const outputTokens = estimatedOutputTokens(outputBytes);
    return { outputTokens, cost: this.promptCost + costOf(outputTokens, this.completion.outputPricePerMillion) };
  }
}

/**
 * Longest time gathered text waits for busy readers before it is published
 * anyway, so that a reader that stopped reading delays neither the text
 * `current()` shows nor readers that attach later by more than this.
 */
const MAX_HOLD_MS = 100;

/**
 * A completion this process is streaming: its text so far and the events
 * not yet published. Upstream chunks are gathered and published once per
 * turn of the event loop, so a burst of chunks read together becomes one
 * event (same text, fewer events). While every reader is still busy with
 * the previous event (the gateway is behind), the text keeps gathering and
 * goes out as one event when a reader asks for more: each event costs a
 * GraphQL execution and a socket write per reader, so falling behind makes
 * events larger rather than more numerous.
 */
export class LiveCompletion {
  readonly abort = new AbortController();
  content = '';
  finishReason: string | null = null;
  usage: UpstreamUsage | null = null;
  firstTokenAt: Date | null = null;
  outputBytes = 0;
  readonly toolCalls = new ToolCallAssembler();
  readonly storedLog: StoredEventLog = { deltas: [] };
  private nextIndex = 0;
  private pendingText = '';
  private pendingToolCalls: ToolCallDelta[] | null = null;
  private flushScheduled = false;
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly runningCost: RunningCost;

  constructor(
    readonly completion: Completion,
    readonly request: UpstreamRequest,
    private readonly events: CompletionEventLog,
  ) {
    this.runningCost = new RunningCost(request, completion);
  }

  get hasOutput(): boolean {
    return this.outputBytes > 0;
  }

  addText(text: string): void {
    if (text.length === 0) return;
    this.firstTokenAt ??= new Date();
    this.content += text;
    this.pendingText += text;
    this.outputBytes += outputBytesOf(text, null);
    this.scheduleFlush();
  }

  addToolCalls(deltas: ToolCallDelta[]): void {
    this.firstTokenAt ??= new Date();
    this.toolCalls.add(deltas);
    this.outputBytes += outputBytesOf('', deltas);
    (this.pendingToolCalls ??= []).push(...deltas);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushUnlessReadersBusy);
  }

  private readonly flushUnlessReadersBusy = (): void => {
    this.flushScheduled = false;
    // Already holding: the reader's wake or the timer publishes.
    if (this.holdTimer !== undefined) return;
    if (this.events.holdFor?.(this.completion.id, this.publish)) {
      this.holdTimer = setTimeout(this.publish, MAX_HOLD_MS);
      return;
    }
    this.flush();
  };

  private readonly publish = (): void => this.flush();

  /** Publishes what is pending as one event, now. */
  flush(): void {
    this.flushScheduled = false;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (this.pendingText.length === 0 && this.pendingToolCalls === null) return;
    const index = this.nextIndex++;
    this.storedLog.deltas.push(this.pendingText.length);
    if (this.pendingToolCalls) (this.storedLog.toolCalls ??= {})[index] = this.pendingToolCalls;
    this.events.append({
      completionId: this.completion.id,
      index,
      delta: this.pendingText,
      toolCallDeltas: this.pendingToolCalls,
      ...this.runningCost.at(this.outputBytes),
      done: false,
      completion: null,
    });
    this.pendingText = '';
    this.pendingToolCalls = null;
  }

  /** Publishes the terminal event with the settled completion. */
  finish(settled: Completion): void {
    this.flush();
    this.events.append(terminalEvent(settled, this.nextIndex++));
  }
}
