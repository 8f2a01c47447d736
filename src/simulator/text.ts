// What the simulator "generates": deterministic text, token splitting, stop and
// max_tokens handling, JSON answers, tool arguments and the prompt-token estimate.
// Everything is a pure function of the request so tests can predict the output.

const LOREM = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ' +
  'incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud'
).split(' ');

/** FNV-1a: a stable, dependency-free hash so the same prompt gives the same answer. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Up to six words of the prompt, used to make the answer visibly about the
 * question, each cut to 10 characters: a token is one word, and no real
 * token holds more than 16 bytes (which the gateway relies on).
 */
export function topicOf(prompt: string): string {
  return prompt
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 6)
    .map((word) => Array.from(word).slice(0, 10).join(''))
    .join(' ');
}

/**
 * The default answer: `You said: "<topic>".` followed by lorem words, `words`
 * words in all (one word = one token). Without `words`, the length is 10–26
 * words chosen by hashing the prompt.
 */
export function defaultAnswer(prompt: string, words?: number): string {
  const topic = topicOf(prompt);
  const intro = topic === '' ? ['Simulated', 'answer.'] : `You said: "${topic}".`.split(' ');
  const seed = hash(prompt);
  const count = words ?? intro.length + 8 + (seed % 17);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(i < intro.length ? (intro[i] as string) : (LOREM[(seed + i) % LOREM.length] as string));
  }
  return out.join(' ');
}

/** One token per word, each carrying the whitespace before it, so the tokens join back to the text exactly. */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

/** Fixed-size fragments (by code point, never splitting a surrogate pair), the way JSON tends to stream. */
export function splitIntoFragments(text: string, size = 4): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

/**
 * Cuts the tokens where the earliest stop sequence begins (the stop sequence
 * itself is not sent, as with OpenAI). Returns undefined when no stop matches.
 */
export function cutAtStop(tokens: string[], stops: string[]): string[] | undefined {
  if (stops.length === 0) return undefined;
  const text = tokens.join('');
  let cut = -1;
  for (const stop of stops) {
    const at = stop === '' ? -1 : text.indexOf(stop);
    if (at !== -1 && (cut === -1 || at < cut)) cut = at;
  }
  if (cut === -1) return undefined;
  const out: string[] = [];
  let length = 0;
  for (const token of tokens) {
    if (length + token.length <= cut) {
      out.push(token);
      length += token.length;
      continue;
    }
    const head = token.slice(0, cut - length);
    if (head !== '') out.push(head);
    break;
  }
  return out;
}

/** A plausible value for a JSON-schema node: enums take their first value, strings the topic. */
function sampleValue(schema: unknown, topic: string): unknown {
  if (typeof schema !== 'object' || schema === null) return topic;
  const node = schema as { type?: unknown; enum?: unknown; items?: unknown; properties?: unknown };
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];
  const type = Array.isArray(node.type) ? node.type[0] : node.type;
  switch (type) {
    case 'integer':
    case 'number':
      return 42;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return [sampleValue(node.items, topic)];
    case 'object':
      return sampleArguments(node, topic);
    default:
      return topic;
  }
}

/** Arguments for a tool call: every declared property gets a sample value. */
export function sampleArguments(parameters: unknown, topic: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof parameters !== 'object' || parameters === null) return out;
  const properties = (parameters as { properties?: unknown }).properties;
  if (typeof properties !== 'object' || properties === null) return out;
  for (const [name, schema] of Object.entries(properties)) out[name] = sampleValue(schema, topic);
  return out;
}

/** Characters an image or other non-text part stands for: 85 tokens, OpenAI's low-detail image price. */
const NON_TEXT_PART_CHARS = 340;

function contentChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let chars = 0;
  for (const part of content) {
    const text = (part as { text?: unknown } | null)?.text;
    chars += typeof text === 'string' ? text.length : NON_TEXT_PART_CHARS;
  }
  return chars;
}

/**
 * The simulator's prompt-token count: ceil(characters / 4) + 4 per message,
 * where characters are the text of every message (text parts for array
 * content, 340 per non-text part), the JSON of assistant tool_calls and the
 * JSON of the tool definitions.
 */
export function estimatePromptTokens(messages: readonly { content?: unknown; tool_calls?: unknown }[], tools: unknown): number {
  let chars = tools === undefined ? 0 : JSON.stringify(tools).length;
  for (const message of messages) {
    chars += contentChars(message.content);
    if (message.tool_calls !== undefined) chars += JSON.stringify(message.tool_calls).length;
  }
  return Math.ceil(chars / 4) + 4 * messages.length;
}

/** The text of a message's content: the string itself or its text parts joined by newlines. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    const text = (part as { text?: unknown } | null)?.text;
    if (typeof text === 'string') texts.push(text);
  }
  return texts.join('\n');
}
