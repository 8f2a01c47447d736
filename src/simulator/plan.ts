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
  | { tool_calls: [{ index: 0; id?: string; type?: 'function'; function: { name?: string; arguments: string } }] };

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

function planToolCall(tool: ForcedTool, maxTokens: number, callId: string, topic: string): Omit<CompletionPlan, 'promptTokens'> {
  const fragments = splitIntoFragments(JSON.stringify(sampleArguments(tool.parameters, topic || 'simulated')));
  // The header delta (id and name) counts as one token, as each fragment does.
  const { items, cut } = limit(fragments, maxTokens - 1);
  const deltas: PlannedDelta[] = [
    { tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool.name, arguments: '' } }] },
    ...items.map((fragment): PlannedDelta => ({ tool_calls: [{ index: 0, function: { arguments: fragment } }] })),
  ];
  return {
    deltas,
    finishReason: cut ? 'length' : 'tool_calls',
    message: {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ id: callId, type: 'function', function: { name: tool.name, arguments: items.join('') } }],
    },
  };
}

function planText(request: ChatRequest, script: SimulatorScript, prompt: string): Omit<CompletionPlan, 'promptTokens'> {
  let tokens: string[];
  if (script.tokens !== undefined) tokens = script.tokens;
  else if (script.text !== undefined) tokens = splitIntoTokens(script.text);
  else if (request.jsonObject) {
    tokens = splitIntoFragments(JSON.stringify({ answer: defaultAnswer(prompt, script.words) }));
  } else tokens = splitIntoTokens(defaultAnswer(prompt, script.words));

  const stopped = cutAtStop(tokens, request.stop);
  const { items, cut } = limit(stopped ?? tokens, request.maxTokens);
  return {
    deltas: items.map((content) => ({ content })),
    finishReason: cut ? 'length' : 'stop',
    message: { role: 'assistant', content: items.join(''), refusal: null },
  };
}

/**
 * Decides the answer: a tool call when tool_choice demands one, otherwise
 * text (scripted, JSON for json_object, or the default answer), cut at the
 * first stop sequence (finish `stop`) and at max_tokens (finish `length`).
 */
export function planCompletion(request: ChatRequest, script: SimulatorScript, prompt: string, callId: string): CompletionPlan {
  const tool = request.forcedTool;
  const planned =
    tool !== undefined ? planToolCall(tool, request.maxTokens, callId, topicOf(prompt)) : planText(request, script, prompt);
  return {
    ...planned,
    finishReason: script.finishReason ?? planned.finishReason,
    promptTokens: estimatePromptTokens(request.messages, request.tools),
  };
}
