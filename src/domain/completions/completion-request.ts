import type { Model } from '../catalogue/model.js';
import { BadInputError, field, ModelUnavailableError, modelsListing, say, type FieldPath, type Words } from '../errors.js';
import { validateIdempotencyKey } from '../idempotency.js';
import { assertStorableText, cleanText, isStorableText } from '../storable-text.js';
import { assertPlainJson } from './json-limits.js';
import type { UpstreamMessage, UpstreamRequest } from './upstream.js';

// Everything a completion request can get wrong is found here, before any
// credit or upstream is touched. Messages name the field and say how to fix it.
// Every field has a bound (README, "Limits"): free-form JSON nests at most
// MAX_JSON_DEPTH deep, and no text holds U+0000; the request body's own size
// limit bounds the rest.

export interface CompletionMessageInput {
  role: string;
  content?: unknown;
  name?: string | null;
  toolCallId?: string | null;
  toolCalls?: unknown;
}

export interface CompletionRequestInput {
  model: string;
  messages: CompletionMessageInput[];
  maxTokens?: number | null;
  temperature?: number | null;
  topP?: number | null;
  stop?: string[] | null;
  tools?: unknown;
  toolChoice?: unknown;
  responseFormat?: unknown;
  user?: string | null;
  idempotencyKey?: string | null;
}

export const DEFAULT_MAX_TOKENS = 1024;
/** The longest end-user id passed upstream. */
export const MAX_USER_LENGTH = 256;
/**
 * Far above a long Claude Code session (an Anthropic tool_result turn
 * becomes several messages here), not Anthropic's 100,000: the walks over a
 * request's messages hold the event loop (see `npm run bench:large-bodies`).
 */
const MAX_MESSAGES = 10_000;
const MAX_STOPS = 4;
const MAX_STOP_LENGTH = 1000;
const MAX_TOOLS = 128;
const MAX_TOOL_CALLS = 128;
const MAX_TOOL_CALL_ID_LENGTH = 256;
const roles = new Set(['system', 'user', 'assistant', 'tool']);
const functionName = /^[a-zA-Z0-9_-]{1,64}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function bad(path: FieldPath, problem: string | Words): never {
  throw new BadInputError(path, problem);
}

function validateImageUrl(url: unknown, path: FieldPath): void {
  if (typeof url !== 'string' || !(/^https:\/\/\S+$/.test(url) || /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(url))) {
    bad(path, 'an image must be an https URL or a base64 data URI (data:image/png;base64,…)');
  }
}

/**
 * Message text as Postgres can store it (see cleanText). Text is what a
 * conversation carries from outside, a tool's output with a NUL byte in it
 * say, and a client resends it on every later turn: refusing it would end
 * the conversation for good. Names, ids and other fields are still refused.
 */
const textPartCleaned = (part: unknown): unknown =>
  isObject(part) && part.type === 'text' && typeof part.text === 'string' && !isStorableText(part.text) ? { ...part, text: cleanText(part.text) } : part;

function validateContent(given: unknown, role: string, path: FieldPath, hasToolCalls: boolean): string | unknown[] | null {
  if (typeof given === 'string') {
    const content = cleanText(given);
    if (content.length === 0 && !hasToolCalls) bad(path, 'content must not be empty');
    return content;
  }
  if ((given === null || given === undefined) && role === 'assistant' && hasToolCalls) return null;
  if (!Array.isArray(given) || given.length === 0) {
    bad(path, 'content must be a non-empty string or a non-empty array of parts');
  }
  const content = given.map(textPartCleaned);
  assertPlainJson(content, path);
  content.forEach((part, i) => {
    const partPath = [...path, i];
    if (!isObject(part)) bad(partPath, 'a content part must be an object');
    if (part.type === 'text') {
      if (typeof part.text !== 'string' || part.text.length === 0) bad(partPath, 'a text part needs a non-empty "text"');
    } else if (part.type === 'image_url') {
      if (role !== 'user') bad(partPath, 'only user messages may carry images');
      if (!isObject(part.image_url)) bad(partPath, 'an image part needs "image_url": { "url": … }');
      validateImageUrl(part.image_url.url, [...partPath, 'image_url', 'url']);
    } else {
      bad(partPath, 'a content part has type "text" or "image_url"');
    }
  });
  return content;
}

function validateToolCalls(toolCalls: unknown, path: FieldPath): unknown[] | undefined {
  if (toolCalls === undefined || toolCalls === null) return undefined;
  if (!Array.isArray(toolCalls) || toolCalls.length === 0) bad(path, say`${field('toolCalls')} must be a non-empty array`);
  if (toolCalls.length > MAX_TOOL_CALLS) bad(path, `at most ${MAX_TOOL_CALLS} tool calls`);
  assertPlainJson(toolCalls, path);
  toolCalls.forEach((call, i) => {
    if (!isObject(call) || typeof call.id !== 'string' || call.type !== 'function' || !isObject(call.function)) {
      bad([...path, i], 'a tool call is { id, type: "function", function: { name, arguments } }');
    }
    if (typeof call.function.name !== 'string' || typeof call.function.arguments !== 'string') {
      bad([...path, i, 'function'], 'needs a string name and string arguments');
    }
    // The same rules as for the tools and the tool message that answers the call.
    if (!functionName.test(call.function.name)) bad([...path, i, 'function', 'name'], 'a function name is 1–64 letters, digits, _ or -');
    if (call.id.length === 0 || call.id.length > MAX_TOOL_CALL_ID_LENGTH) bad([...path, i, 'id'], `must be 1–${MAX_TOOL_CALL_ID_LENGTH} characters`);
  });
  return toolCalls;
}

function validateMessages(messages: CompletionMessageInput[]): UpstreamMessage[] {
  if (messages.length === 0) bad(['messages'], 'give at least one message');
  if (messages.length > MAX_MESSAGES) bad(['messages'], `at most ${MAX_MESSAGES} messages`);
  return messages.map((m, i) => {
    const path = ['messages', i];
    if (!roles.has(m.role)) bad([...path, 'role'], `role must be one of system, user, assistant, tool; got ${JSON.stringify(m.role)}`);
    const role = m.role as UpstreamMessage['role'];
    const toolCalls = validateToolCalls(m.toolCalls, [...path, 'toolCalls']);
    if (toolCalls && role !== 'assistant') bad([...path, 'toolCalls'], 'only assistant messages carry tool calls');
    const message: UpstreamMessage = { role, content: validateContent(m.content, role, [...path, 'content'], !!toolCalls) };
    if (role === 'tool') {
      if (!m.toolCallId) bad([...path, 'toolCallId'], say`a tool message must name the ${field('toolCallId')} it answers`);
      if (m.toolCallId.length > MAX_TOOL_CALL_ID_LENGTH) bad([...path, 'toolCallId'], `must be at most ${MAX_TOOL_CALL_ID_LENGTH} characters`);
      assertStorableText(m.toolCallId, [...path, 'toolCallId']);
      message.toolCallId = m.toolCallId;
    } else if (m.toolCallId) {
      bad([...path, 'toolCallId'], say`only tool messages carry a ${field('toolCallId')}`);
    }
    if (m.name !== undefined && m.name !== null) {
      if (!functionName.test(m.name)) bad([...path, 'name'], 'a name is 1–64 letters, digits, _ or -');
      message.name = m.name;
    }
    if (toolCalls) message.toolCalls = toolCalls;
    return message;
  });
}

function validateTools(tools: unknown): { tools: unknown[]; names: Set<string> } | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools) || tools.length === 0) bad(['tools'], 'tools must be a non-empty array of function definitions');
  if (tools.length > MAX_TOOLS) bad(['tools'], `at most ${MAX_TOOLS} tools`);
  assertPlainJson(tools, ['tools']);
  const names = new Set<string>();
  tools.forEach((tool, i) => {
    const path = ['tools', i];
    if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function)) {
      bad(path, 'a tool is { type: "function", function: { name, description?, parameters? } }');
    }
    const { name, description, parameters } = tool.function;
    if (typeof name !== 'string' || !functionName.test(name)) bad([...path, 'function', 'name'], 'a function name is 1–64 letters, digits, _ or -');
    if (names.has(name)) bad([...path, 'function', 'name'], `two tools are named ${name}`);
    if (description !== undefined && typeof description !== 'string') bad([...path, 'function', 'description'], 'must be a string');
    if (parameters !== undefined && (!isObject(parameters) || (parameters.type !== undefined && parameters.type !== 'object'))) {
      bad([...path, 'function', 'parameters'], 'must be a JSON Schema object ({ "type": "object", … })');
    }
    names.add(name);
  });
  return { tools, names };
}

function validateToolChoice(toolChoice: unknown, toolNames: Set<string> | undefined): unknown {
  if (toolChoice === undefined || toolChoice === null) return undefined;
  if (toolChoice === 'none' || toolChoice === 'auto' || toolChoice === 'required') {
    if (toolChoice !== 'none' && !toolNames) bad(['toolChoice'], say`"${toolChoice}" needs ${field('tools')}`);
    return toolChoice;
  }
  if (isObject(toolChoice) && toolChoice.type === 'function' && isObject(toolChoice.function)) {
    assertPlainJson(toolChoice, ['toolChoice']);
    const name = toolChoice.function.name;
    if (typeof name !== 'string' || !toolNames?.has(name)) bad(['toolChoice'], say`names a function that is not among the ${field('tools')}: ${JSON.stringify(name)}`);
    return toolChoice;
  }
  return bad(['toolChoice'], 'is "auto", "none", "required" or { "type": "function", "function": { "name": … } }');
}

function validateResponseFormat(format: unknown): unknown {
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) bad(['responseFormat'], 'is { "type": "text" | "json_object" | "json_schema", … }');
  assertPlainJson(format, ['responseFormat']);
  if (format.type === 'text' || format.type === 'json_object') return format;
  if (format.type === 'json_schema') {
    if (!isObject(format.json_schema) || typeof format.json_schema.name !== 'string') {
      bad(['responseFormat', 'json_schema'], 'needs { "name": …, "schema": { … } }');
    }
    return format;
  }
  return bad(['responseFormat', 'type'], 'is "text", "json_object" or "json_schema"');
}

function validateUnit(value: number | null | undefined, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isFinite(value) || value < 0 || value > 1) bad([name], `must be between 0 and 1, got ${value}`);
  return value;
}

/**
 * The upstream request a valid input makes for a model that was found and is
 * enabled. Throws BadInputError for anything else.
 */
export function buildUpstreamRequest(input: CompletionRequestInput, model: Model | undefined): UpstreamRequest {
  if (!model) throw new ModelUnavailableError(['model'], say`no model ${JSON.stringify(input.model)}; ${modelsListing} lists them`);
  if (!model.enabled) throw new ModelUnavailableError(['model'], `${model.id} is disabled; pick another model`);
  const maxTokens = input.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > model.maxOutputTokens) {
    bad(['maxTokens'], `must be an integer from 1 to ${model.maxOutputTokens} for ${model.id}, got ${maxTokens}`);
  }
  const temperature = validateUnit(input.temperature, 'temperature');
  const topP = validateUnit(input.topP, 'topP');
  if (temperature !== undefined && topP !== undefined) bad(['topP'], say`give ${field('temperature')} or ${field('topP')}, not both`);
  const stop = input.stop ?? undefined;
  if (stop) {
    if (stop.length > MAX_STOPS) bad(['stop'], `at most ${MAX_STOPS} stop sequences`);
    stop.forEach((sequence, i) => {
      if (sequence.length === 0) bad(['stop', i], 'a stop sequence must not be empty');
      if (sequence.length > MAX_STOP_LENGTH) bad(['stop', i], `a stop sequence is at most ${MAX_STOP_LENGTH} characters`);
      assertStorableText(sequence, ['stop', i]);
    });
  }
  const toolSet = validateTools(input.tools);
  const toolChoice = validateToolChoice(input.toolChoice, toolSet?.names);
  const responseFormat = validateResponseFormat(input.responseFormat);
  if (input.user !== undefined && input.user !== null && (input.user.length === 0 || input.user.length > MAX_USER_LENGTH)) {
    bad(['user'], `must be 1 to ${MAX_USER_LENGTH} characters`);
  }
  if (input.user) assertStorableText(input.user, ['user']);
  const messages = validateMessages(input.messages);
  validateIdempotencyKey(input.idempotencyKey);

  const request: UpstreamRequest = { model: model.upstreamId, messages, maxTokens };
  if (temperature !== undefined) request.temperature = temperature;
  if (topP !== undefined) request.topP = topP;
  if (stop) request.stop = stop;
  if (toolSet) request.tools = toolSet.tools;
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  if (responseFormat !== undefined) request.responseFormat = responseFormat;
  if (input.user) request.user = input.user;
  return request;
}
