import type { CompletionMessageInput } from '../../domain/completions/completion-request.js';
import { assertPlainJson } from '../../domain/completions/json-limits.js';
import { BadInputError, spell, type FieldPath } from '../../domain/errors.js';
import { anthropicSpelling, invalidRequest, type MessageOrigin } from './anthropic-errors.js';

// Anthropic's system prompt and messages as the domain's OpenAI-style
// messages. Blocks are checked for shape only (an object, a known type, the
// fields that type needs); whether a value is allowed (empty text, image
// formats, roles of parts) is the domain's to say, and its errors name the
// block the caller sent (see MessageOrigin).
//
// - text → a text part; `cache_control` rides along on the part, which is
//   how OpenAI-style upstreams take Anthropic's prompt caching.
// - image (base64 or url) → an image_url part (base64 as a data URI).
// - document with a text source → text; PDFs (base64 or url) are refused:
//   the upstream takes text and images only.
// - tool_use (assistant) → an OpenAI tool call; its input as JSON arguments.
// - tool_result (user) → one `tool` message per result, before the rest of
//   its user message, as OpenAI orders them. Tool messages carry text only,
//   so images a tool returned go into a user message right after the tool
//   messages; `tool_reference` blocks (tools loaded by search) become a
//   line of text; `is_error` becomes an "Error: " prefix (OpenAI has no
//   flag); an empty result becomes "(no output)" (the domain refuses empty
//   content).
// - thinking / redacted_thinking → dropped: the upstream cannot take them.
// - a `system`-role message inside messages → a system message in place.
// - any other block type is refused (400), never dropped unnoticed.

type Part = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Translated messages and where each came from. */
export class MessageList {
  readonly messages: CompletionMessageInput[] = [];
  readonly origins: MessageOrigin[] = [];

  add(message: CompletionMessageInput, origin: MessageOrigin): void {
    this.messages.push(message);
    this.origins.push(origin);
  }
}

/** Parts and the path of the block each came from. */
class Parts {
  readonly parts: Part[] = [];
  readonly origins: FieldPath[] = [];

  add(part: Part, origin: FieldPath): void {
    this.parts.push(part);
    this.origins.push(origin);
  }

  get empty(): boolean {
    return this.parts.length === 0;
  }
}

/** Anthropic's `cache_control`, checked: `{ type: "ephemeral", ttl?: "5m" | "1h" }`. */
function cacheControlOf(block: Record<string, unknown>, path: FieldPath): Part {
  const control = block.cache_control;
  if (control === undefined || control === null) return {};
  if (!isObject(control) || control.type !== 'ephemeral' || (control.ttl !== undefined && typeof control.ttl !== 'string')) {
    throw invalidRequest([...path, 'cache_control'], 'is { "type": "ephemeral" } with an optional "ttl"');
  }
  return { cache_control: control.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: control.ttl } };
}

function blockOf(value: unknown, path: FieldPath): Record<string, unknown> & { type: string } {
  if (!isObject(value) || typeof value.type !== 'string') throw invalidRequest(path, 'a content block is an object with a "type"');
  return value as Record<string, unknown> & { type: string };
}

function stringField(block: Record<string, unknown>, name: string, path: FieldPath): string {
  const value = block[name];
  if (typeof value !== 'string') throw invalidRequest([...path, name], 'must be a string');
  return value;
}

function textPart(block: Record<string, unknown>, path: FieldPath): Part {
  return { type: 'text', text: stringField(block, 'text', path), ...cacheControlOf(block, path) };
}

function imagePart(block: Record<string, unknown>, path: FieldPath): Part {
  const source = block.source;
  const sourcePath = [...path, 'source'];
  let url: string;
  if (isObject(source) && source.type === 'base64') {
    url = `data:${stringField(source, 'media_type', sourcePath)};base64,${stringField(source, 'data', sourcePath)}`;
  } else if (isObject(source) && source.type === 'url') {
    url = stringField(source, 'url', sourcePath);
  } else {
    throw invalidRequest(sourcePath, 'an image source is { "type": "base64", "media_type", "data" } or { "type": "url", "url" }');
  }
  return { type: 'image_url', image_url: { url }, ...cacheControlOf(block, path) };
}

/** A document's text; PDFs and other binary sources are refused. */
function documentParts(block: Record<string, unknown>, path: FieldPath, into: Parts): void {
  const source = block.source;
  const sourcePath = [...path, 'source'];
  if (isObject(source) && source.type === 'text') {
    into.add({ type: 'text', text: stringField(source, 'data', sourcePath), ...cacheControlOf(block, path) }, path);
    return;
  }
  if (isObject(source) && source.type === 'content') {
    const content = source.content;
    if (typeof content === 'string') into.add({ type: 'text', text: content, ...cacheControlOf(block, path) }, path);
    else if (Array.isArray(content)) {
      content.forEach((value, i) => {
        const itemPath = [...sourcePath, 'content', i];
        const item = blockOf(value, itemPath);
        if (item.type !== 'text') throw unsupported(item.type, itemPath, "text blocks in a document's content");
        into.add(textPart(item, itemPath), path);
      });
    }
    else throw invalidRequest([...sourcePath, 'content'], 'must be a string or text blocks');
    return;
  }
  throw invalidRequest(sourcePath, 'this gateway takes documents with a text source only (PDFs cannot be passed to its upstream); send the text');
}

const unsupported = (type: string, path: FieldPath, accepted: string) =>
  invalidRequest([...path, 'type'], `unsupported content block type ${JSON.stringify(type)} here; this gateway accepts ${accepted}`);

/** Text and text blocks, for system prompts. */
function systemContent(content: unknown, path: FieldPath): { content: string | Part[]; parts: FieldPath[] } {
  if (typeof content === 'string') return { content, parts: [] };
  if (!Array.isArray(content)) throw invalidRequest(path, 'must be a string or an array of text blocks');
  const parts = new Parts();
  content.forEach((value, i) => {
    const block = blockOf(value, [...path, i]);
    if (block.type !== 'text') throw unsupported(block.type, [...path, i], 'text blocks in a system prompt');
    parts.add(textPart(block, [...path, i]), [...path, i]);
  });
  return { content: parts.parts, parts: parts.origins };
}

/** The top-level `system`; an empty one is no system prompt. */
export function addSystem(list: MessageList, system: unknown): void {
  if (system === undefined || system === null || system === '' || (Array.isArray(system) && system.length === 0)) return;
  const { content, parts } = systemContent(system, ['system']);
  list.add({ role: 'system', content }, { message: ['system'], parts });
}

/** What one tool_result says, as the text of a tool message; images it holds go to `images`. */
function toolResultContent(block: Record<string, unknown>, path: FieldPath, images: Parts): string | Part[] {
  const texts = new Parts();
  const content = block.content;
  const contentPath = [...path, 'content'];
  if (typeof content === 'string') {
    if (content !== '') texts.add({ type: 'text', text: content }, contentPath);
  } else if (Array.isArray(content)) {
    content.forEach((value, i) => {
      const itemPath = [...contentPath, i];
      const item = blockOf(value, itemPath);
      if (item.type === 'text') texts.add(textPart(item, itemPath), itemPath);
      else if (item.type === 'image') {
        images.add(imagePart(item, itemPath), itemPath);
        texts.add({ type: 'text', text: '(an image, attached in the next user message)' }, itemPath);
      } else if (item.type === 'tool_reference') texts.add({ type: 'text', text: `Tool ${stringField(item, 'tool_name', itemPath)} loaded.` }, itemPath);
      else if (item.type === 'document') documentParts(item, itemPath, texts);
      else throw unsupported(item.type, itemPath, 'text, image, document (text) and tool_reference blocks in a tool result');
    });
  } else if (content !== undefined && content !== null) {
    throw invalidRequest(contentPath, 'must be a string or an array of blocks');
  }
  const parts = texts.empty ? [{ type: 'text', text: '(no output)' }] : texts.parts.map((part) => ({ ...part }));
  if (block.is_error === true) parts[0] = { ...parts[0], text: `Error: ${String(parts[0]?.text ?? '')}` };
  const control = cacheControlOf(block, path);
  if (control.cache_control) parts[parts.length - 1] = { ...parts[parts.length - 1], ...control };
  // A lone uncached text is sent as a plain string, the form every upstream takes.
  return parts.length === 1 && !parts[0]?.cache_control ? String(parts[0]?.text) : parts;
}

function addUser(list: MessageList, content: unknown, path: FieldPath): void {
  if (typeof content === 'string') {
    list.add({ role: 'user', content }, { message: path, parts: [] });
    return;
  }
  if (!Array.isArray(content)) throw invalidRequest([...path, 'content'], 'must be a string or an array of content blocks');
  const images = new Parts();
  const rest = new Parts();
  content.forEach((value, i) => {
    const blockPath = [...path, 'content', i];
    const block = blockOf(value, blockPath);
    switch (block.type) {
      case 'tool_result':
        list.add(
          { role: 'tool', toolCallId: stringField(block, 'tool_use_id', blockPath), content: toolResultContent(block, blockPath, images) },
          { message: blockPath, parts: [blockPath] },
        );
        return;
      case 'text':
        rest.add(textPart(block, blockPath), blockPath);
        return;
      case 'image':
        rest.add(imagePart(block, blockPath), blockPath);
        return;
      case 'document':
        documentParts(block, blockPath, rest);
        return;
      case 'thinking':
      case 'redacted_thinking':
        return;
      default:
        throw unsupported(block.type, blockPath, 'text, image, document (text) and tool_result blocks in a user message');
    }
  });
  const parts = new Parts();
  images.parts.forEach((part, i) => parts.add(part, images.origins[i] ?? path));
  rest.parts.forEach((part, i) => parts.add(part, rest.origins[i] ?? path));
  // A message of tool results only (the usual reply to tool use) adds no user message.
  if (!parts.empty || content.length === 0) list.add({ role: 'user', content: parts.parts }, { message: path, parts: parts.origins });
}

/**
 * A tool_use input as OpenAI's JSON arguments. The domain's rules for
 * free-form JSON (depth, U+0000) are applied first: serialising a value
 * nested thousands deep would overflow the stack before the domain saw it.
 */
function argumentsOf(input: Record<string, unknown>, path: FieldPath): string {
  try {
    assertPlainJson(input, []);
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    throw invalidRequest(path, typeof error.problem === 'string' ? error.problem : spell(error.problem, anthropicSpelling()));
  }
  return JSON.stringify(input);
}

function addAssistant(list: MessageList, content: unknown, path: FieldPath): void {
  if (typeof content === 'string') {
    list.add({ role: 'assistant', content }, { message: path, parts: [] });
    return;
  }
  if (!Array.isArray(content)) throw invalidRequest([...path, 'content'], 'must be a string or an array of content blocks');
  const parts = new Parts();
  const toolCalls: unknown[] = [];
  content.forEach((value, i) => {
    const blockPath = [...path, 'content', i];
    const block = blockOf(value, blockPath);
    switch (block.type) {
      case 'text':
        parts.add(textPart(block, blockPath), blockPath);
        return;
      case 'tool_use': {
        const input = block.input ?? {};
        if (!isObject(input)) throw invalidRequest([...blockPath, 'input'], 'must be an object');
        const name = stringField(block, 'name', blockPath);
        toolCalls.push({ id: stringField(block, 'id', blockPath), type: 'function', function: { name, arguments: argumentsOf(input, [...blockPath, 'input']) } });
        return;
      }
      case 'thinking':
      case 'redacted_thinking':
        return;
      default:
        // Images too: the domain would refuse them in an assistant turn, and so does Anthropic.
        throw unsupported(block.type, blockPath, 'text, tool_use and thinking (dropped) blocks in an assistant message');
    }
  });
  // A turn that was only thinking leaves nothing the upstream can take.
  if (parts.empty && toolCalls.length === 0 && content.length > 0) return;
  list.add(
    { role: 'assistant', content: parts.empty && toolCalls.length > 0 ? null : parts.parts, ...(toolCalls.length > 0 ? { toolCalls } : {}) },
    { message: path, parts: parts.origins },
  );
}

/** One Anthropic message, appended to `list` as one or more domain messages. */
export function addMessage(list: MessageList, message: unknown, index: number): void {
  const path = ['messages', index];
  if (!isObject(message)) throw invalidRequest(path, 'a message is { "role", "content" }');
  switch (message.role) {
    case 'user':
      addUser(list, message.content, path);
      return;
    case 'assistant':
      addAssistant(list, message.content, path);
      return;
    case 'system': {
      // Claude Code sends one for models it does not know; OpenAI-style upstreams take system messages anywhere.
      const { content, parts } = systemContent(message.content, [...path, 'content']);
      list.add({ role: 'system', content }, { message: path, parts });
      return;
    }
    default:
      throw invalidRequest([...path, 'role'], `must be "user", "assistant" or "system", got ${JSON.stringify(message.role)}`);
  }
}
