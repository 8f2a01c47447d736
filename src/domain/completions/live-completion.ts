import { terminalEvent } from './completion-event.js';
import type { CompletionEventLog } from './event-log.js';
import type { Completion, StoredEventLog } from './completion-record.js';
import { costOf } from '../money.js';
import { cleanText } from '../storable-text.js';
import { estimatedOutputBytes, fewestOutputTokens } from './token-estimates.js';
import type { ToolCallDelta, UpstreamChunk, UpstreamRequest, UpstreamUsage } from './upstream.js';
import { estimatedOutputTokens, estimatedPromptTokens } from './token-estimates.js';
import { ToolCallAssembler } from './tool-calls.js';
import type { CallTarget } from './resilient-upstream.js';
import { noCompletionTrace, type CompletionTrace } from './completion-tracer.js';
import type { Model } from '../catalogue/model.js';

/** UTF-8 bytes of the tool-call fragments (names and arguments) in one event. */
function toolCallBytesOf(toolCallDeltas: readonly ToolCallDelta[]): number {
  let bytes = 0;
  for (const d of toolCallDeltas) bytes += Buffer.byteLength(d.function?.name ?? '') + Buffer.byteLength(d.function?.arguments ?? '');
  return bytes;
}

/** UTF-8 bytes of generated output in one event: its text and tool-call fragments. */
export function outputBytesOf(text: string, toolCallDeltas: readonly ToolCallDelta[] | null): number {
  return Buffer.byteLength(text) + (toolCallDeltas ? toolCallBytesOf(toolCallDeltas) : 0);
}

/**
 * The bytes of tool-call deltas counted toward maxTokens: their fragments,
 * and the id of a delta that carries nothing else. Some servers repeat a
 * call's id on every delta, which is no output; but a stream of nothing but
 * ids must be bounded like any other.
 */
function boundToolCallBytesOf(toolCallDeltas: readonly ToolCallDelta[]): number {
  let bytes = toolCallBytesOf(toolCallDeltas);
  for (const d of toolCallDeltas) if (!d.function?.name && !d.function?.arguments) bytes += Buffer.byteLength(d.id ?? '');
  return bytes;
}

/** A delta left with nothing once its repeated id was dropped is not published. */
function carriesOutput(delta: ToolCallDelta): boolean {
  return delta.id !== undefined || delta.type !== undefined || Boolean(delta.function?.name) || Boolean(delta.function?.arguments);
}

/** The longest start of `text` within `bytes` UTF-8 bytes, whole characters only. */
function prefixOfBytes(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += Buffer.byteLength(char);
    if (used > bytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * What two usage reports say together: the larger count of each kind, so
 * that a later, smaller report (or one that reports the prompt and the
 * output apart, as some proxies do) cannot lower the bill. The cache counts
 * come with the larger prompt count, from the same report, so they always
 * fit inside it.
 */
function combinedReports(earlier: UpstreamUsage, later: UpstreamUsage): UpstreamUsage {
  const prompt = later.promptTokens >= earlier.promptTokens ? later : earlier;
  return {
    promptTokens: prompt.promptTokens,
    completionTokens: Math.max(earlier.completionTokens, later.completionTokens),
    cachedPromptTokens: prompt.cachedPromptTokens,
    cacheWriteTokens: prompt.cacheWriteTokens,
  };
}

/** A tool-call delta with its text as Postgres can store it. */
function cleanToolCallDelta(delta: ToolCallDelta): ToolCallDelta {
  const clean = { ...delta };
  if (typeof delta.id === 'string') clean.id = cleanText(delta.id);
  if (delta.function) {
    const fn = (clean.function = { ...delta.function });
    if (typeof fn.name === 'string') fn.name = cleanText(fn.name);
    if (typeof fn.arguments === 'string') fn.arguments = cleanText(fn.arguments);
  }
  return clean;
}

/**
 * The running cost shown on events before the upstream reports usage: the
 * estimated prompt plus the estimated output so far. Live streams and
 * replays from Postgres compute it the same way, so both show the same values.
 */
export class RunningCost {
  private readonly promptCost: bigint;

  constructor(
    private readonly request: UpstreamRequest,
    private readonly completion: Pick<Completion, 'inputPricePerMillion' | 'outputPricePerMillion'>,
  ) {
    this.promptCost = costOf(estimatedPromptTokens(request), completion.inputPricePerMillion);
  }

  at(outputBytes: number): { outputTokens: number; cost: bigint } {
    // Output never passes maxTokens (the run is cut there), nor does its estimate.
    const outputTokens = Math.min(estimatedOutputTokens(outputBytes), this.request.maxTokens);
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
export class LiveCompletion implements CallTarget {
  readonly abort = new AbortController();
  /** The model the request goes to: the completion's, or its fallback. */
  modelId: string;
  /** Set by the first chunk the upstream answered with, whatever it carried. */
  answered = false;
  content = '';
  finishReason: string | null = null;
  usage: UpstreamUsage | null = null;
  firstTokenAt: Date | null = null;
  outputBytes = 0;
  /** Chunks that carried output: each is at least one token. */
  outputChunks = 0;
  /** Bytes of output the upstream sent, as counted toward maxTokens (outputBytes is what was published). */
  private boundBytes = 0;
  /** Set when the upstream went past maxTokens and the run was cut there. */
  cutAtMaxTokens = false;
  /** Set once the upstream part is over and the run settles. */
  settling = false;
  readonly toolCalls = new ToolCallAssembler();
  readonly storedLog: StoredEventLog = { deltas: [] };
  private nextIndex = 0;
  private pendingText = '';
  private pendingToolCalls: ToolCallDelta[] | null = null;
  private flushScheduled = false;
  private holdTimer: NodeJS.Timeout | undefined;
  private runningCost: RunningCost;

  constructor(
    private current: Completion,
    private sent: UpstreamRequest,
    private readonly events: CompletionEventLog,
    readonly trace: CompletionTrace = noCompletionTrace,
  ) {
    this.modelId = current.modelId;
    this.runningCost = new RunningCost(sent, current);
  }

  /** The completion, with the prices of the model it is sent to. */
  get completion(): Completion {
    return this.current;
  }

  get request(): UpstreamRequest {
    return this.sent;
  }

  /**
   * Sends the request to `model` from the next call on, at its prices.
   * Only before the upstream answered: nothing was published or counted yet.
   */
  sendTo(model: Model): void {
    if (this.answered) throw new Error('a completion cannot change model after the upstream answered');
    this.modelId = model.id;
    this.current = {
      ...this.current,
      inputPricePerMillion: model.inputPricePerMillion,
      outputPricePerMillion: model.outputPricePerMillion,
      cacheReadPricePerMillion: model.cacheReadPricePerMillion,
      cacheWritePricePerMillion: model.cacheWritePricePerMillion,
    };
    this.sent = { ...this.sent, model: model.upstreamId };
    this.runningCost = new RunningCost(this.sent, this.current);
  }

  get hasOutput(): boolean {
    return this.outputBytes > 0;
  }

  /**
   * Takes one upstream chunk. Returns false, taking nothing of it, when its
   * output would go past maxTokens: the upstream is not trusted to stop, so
   * the caller ends the run there (cutAtMaxTokens). Output tokens are
   * counted by a lower bound (fewestOutputTokens), so an honest upstream is
   * never cut before it reached maxTokens. Text Postgres cannot store is
   * removed; tool-call deltas out of bounds fail the run (ToolCallAssembler).
   */
  accept(chunk: UpstreamChunk): boolean {
    this.answered = true;
    let text = chunk.contentDelta ? cleanText(chunk.contentDelta) : '';
    let textBytes = text === '' ? 0 : Buffer.byteLength(text);
    const sent = chunk.toolCallDeltas?.map(cleanToolCallDelta);
    // What the upstream sent counts toward maxTokens (see boundToolCallBytesOf).
    const sentBytes = textBytes + (sent ? boundToolCallBytesOf(sent) : 0);
    let cut = false;
    if (sentBytes > 0) {
      if (fewestOutputTokens(this.outputChunks + 1, this.boundBytes + sentBytes) > this.request.maxTokens) {
        // The text that still fits is delivered; tool-call fragments never in part.
        cut = true;
        this.cutAtMaxTokens = true;
        text = sent || this.outputChunks + 1 > this.request.maxTokens ? '' : prefixOfBytes(text, this.bytesLeftForPrefix());
        if (text === '') return false;
        textBytes = Buffer.byteLength(text);
      }
      this.outputChunks += 1;
      this.boundBytes += cut ? textBytes : sentBytes;
    }
    const deltas = cut || !sent ? undefined : this.toolCalls.normalise(sent, this.toolCallIdFor).filter(carriesOutput);
    if (deltas?.length) this.toolCalls.add(deltas);
    if (text.length > 0 || deltas?.length) {
      if (this.firstTokenAt === null) {
        this.firstTokenAt = new Date();
        this.trace.firstToken();
      }
      this.outputBytes += textBytes + (deltas ? toolCallBytesOf(deltas) : 0);
      this.content += text;
      this.pendingText += text;
      if (deltas?.length) (this.pendingToolCalls ??= []).push(...deltas);
      this.scheduleFlush();
    }
    if (cut) return false;
    if (chunk.finishReason) this.finishReason = chunk.finishReason;
    if (chunk.usage) this.usage = this.usage ? combinedReports(this.usage, chunk.usage) : chunk.usage;
    return true;
  }

  /**
   * How much of a chunk that crosses maxTokens is still delivered: whatever
   * keeps the output so far within maxTokens at the estimate's bytes a
   * token (none when earlier, denser chunks already passed that). The
   * charge is maxTokens, which the estimate says pays for that much.
   */
  private bytesLeftForPrefix(): number {
    return Math.max(0, estimatedOutputBytes(this.request.maxTokens) - this.boundBytes);
  }

  /** A lower bound of the output tokens the upstream sent so far (see fewestOutputTokens). */
  get fewestOutputTokens(): number {
    return fewestOutputTokens(this.outputChunks, this.boundBytes);
  }

  /** The id of a call the upstream announced without one. */
  private readonly toolCallIdFor = (index: number): string => `call_${this.completion.id.replaceAll('-', '')}_${index}`;

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
