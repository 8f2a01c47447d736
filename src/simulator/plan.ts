import type { ChatRequest, ForcedTool } from './request.js';
import type { SimulatorScript } from './script.js';
import {
  cutAtStop,
  defaultAnswer,
  estimatePromptTokens,
  sampleArguments,
  splitIntoFragments,
  splitIntoTokens,
  topicOf,
} from './text.js';

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One streamed chunk's `delta` (besides the role chunk), i.e. one completion token. */
export type PlannedDelta =
  | { content: string }
  | { tool_calls: [{ index: number; id?: string; type?: 'function'; function: { name?: string; arguments: string } }] };

/** Everything a response will contain, decided before the first byte is written. */
export interface CompletionPlan {
  deltas: PlannedDelta[];
  finishReason: string;
  promptTokens: number;
  /** The non-streaming `message`. */
  message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: WireToolCall[] };
}

function limit<T>(items: T[], maxTokens: number): { items: T[]; cut: boolean } {
  return items.length > maxTokens ? { items: items.slice(0, maxTokens), cut: true } : { items, cut: false };
}

/** A tool call as deltas: a header with its id and name, then its arguments in fragments; each is one token. */
function toolCallDeltas(index: number, id: string, name: string, args: string): PlannedDelta[] {
  return [
    { tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] },
    ...splitIntoFragments(args).map((fragment): PlannedDelta => ({ tool_calls: [{ index, function: { arguments: fragment } }] })),
  ];
}

/** The non-streaming message the kept deltas add up to. */
function messageOf(deltas: PlannedDelta[]): CompletionPlan['message'] {
  let content: string | null = null;
  const calls: WireToolCall[] = [];
  for (const delta of deltas) {
    if ('content' in delta) content = (content ?? '') + delta.content;
    else {
      const [part] = delta.tool_calls;
      const call = (calls[part.index] ??= { id: part.id ?? '', type: 'function', function: { name: part.function.name ?? '', arguments: '' } });
      call.function.arguments += part.function.arguments;
    }
  }
  return { role: 'assistant', content: calls.length > 0 ? content : (content ?? ''), refusal: null, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
}

/** Deltas cut at max_tokens: finish `length` when cut, `natural` otherwise. */
function planned(deltas: PlannedDelta[], maxTokens: number, natural: string): Omit<CompletionPlan, 'promptTokens'> {
  const { items, cut } = limit(deltas, maxTokens);
  return { deltas: items, finishReason: cut ? 'length' : natural, message: messageOf(items) };
}

function planToolCall(tool: ForcedTool, maxTokens: number, callId: string, topic: string): Omit<CompletionPlan, 'promptTokens'> {
  return planned(toolCallDeltas(0, callId, tool.name, JSON.stringify(sampleArguments(tool.parameters, topic || 'simulated'))), maxTokens, 'tool_calls');
}

function textTokens(request: ChatRequest, script: SimulatorScript, prompt: string): string[] {
  if (script.tokens !== undefined) return script.tokens;
  if (script.text !== undefined) return splitIntoTokens(script.text);
  if (request.jsonObject) return splitIntoFragments(JSON.stringify({ answer: defaultAnswer(prompt, script.words) }));
  return splitIntoTokens(defaultAnswer(prompt, script.words));
}

function planText(request: ChatRequest, script: SimulatorScript, prompt: string): Omit<CompletionPlan, 'promptTokens'> {
  const tokens = textTokens(request, script, prompt);
  const stopped = cutAtStop(tokens, request.stop);
  return planned((stopped ?? tokens).map((content) => ({ content })), request.maxTokens, 'stop');
}

/** Scripted tool calls, after the scripted text if there is any (no default answer then). */
function planScriptedCalls(request: ChatRequest, script: SimulatorScript, calls: NonNullable<SimulatorScript['toolCalls']>, callId: string) {
  const text = script.tokens ?? (script.text === undefined ? [] : splitIntoTokens(script.text));
  const deltas: PlannedDelta[] = text.map((content) => ({ content }));
  calls.forEach((call, i) => {
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
    deltas.push(...toolCallDeltas(i, i === 0 ? callId : `${callId}_${i}`, call.name, args));
  });
  return planned(deltas, request.maxTokens, 'tool_calls');
}

/**
 * Decides the answer: the scripted tool calls (after any scripted text), a
 * tool call when tool_choice demands one, otherwise text (scripted, JSON for
 * json_object, or the default answer) cut at the first stop sequence
 * (finish `stop`); everything is cut at max_tokens (finish `length`).
 */
export function planCompletion(request: ChatRequest, script: SimulatorScript, prompt: string, callId: string): CompletionPlan {
  const tool = request.forcedTool;
  const plan = script.toolCalls
    ? planScriptedCalls(request, script, script.toolCalls, callId)
    : tool !== undefined
      ? planToolCall(tool, request.maxTokens, callId, topicOf(prompt))
      : planText(request, script, prompt);
  return {
    ...plan,
    finishReason: script.finishReason ?? plan.finishReason,
    promptTokens: estimatePromptTokens(request.messages, request.tools),
  };
}
