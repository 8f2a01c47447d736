// Validation of a /v1/chat/completions body, to the extent a client of the
// real API would get a 400 for it. Fields the simulator ignores (temperature,
// top_p, user, …) are accepted as they are.

export interface WireMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
}

export interface ForcedTool {
  name: string;
  parameters: unknown;
}

export interface ChatRequest {
  model: string;
  messages: WireMessage[];
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number;
  stop: string[];
  jsonObject: boolean;
  tools: unknown;
  /** Set when tool_choice demands a call: `required` (the first tool) or a named function. */
  forcedTool: ForcedTool | undefined;
}

export class InvalidRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
  }
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
const DEFAULT_MAX_TOKENS = 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMessages(value: unknown): WireMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", 'messages');
  }
  value.forEach((message, i) => {
    if (!isRecord(message) || typeof message.role !== 'string' || !ROLES.has(message.role)) {
      throw new InvalidRequestError(
        `messages[${i}] must be an object whose role is one of system, developer, user, assistant, tool.`,
        `messages[${i}].role`,
      );
    }
  });
  return value as WireMessage[];
}

function parseMaxTokens(body: Record<string, unknown>): number {
  const value = body.max_tokens ?? body.max_completion_tokens;
  if (value === undefined || value === null) return DEFAULT_MAX_TOKENS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidRequestError("'max_tokens' must be an integer ≥ 1.", 'max_tokens');
  }
  return value;
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length <= 4 && value.every((s) => typeof s === 'string')) return value as string[];
  throw new InvalidRequestError("'stop' must be a string or an array of at most 4 strings.", 'stop');
}

function functionOf(tool: unknown): { name: string; parameters: unknown } | undefined {
  if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) return undefined;
  const { name, parameters } = tool.function;
  return typeof name === 'string' && name !== '' ? { name, parameters } : undefined;
}

function parseForcedTool(tools: unknown, choice: unknown): ForcedTool | undefined {
  if (tools === undefined || tools === null) {
    if (choice === undefined || choice === null || choice === 'none' || choice === 'auto') return undefined;
    throw new InvalidRequestError("'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice');
  }
  if (!Array.isArray(tools) || tools.length === 0) {
    throw new InvalidRequestError("'tools' must be a non-empty array.", 'tools');
  }
  const functions = tools.map((tool, i) => {
    const fn = functionOf(tool);
    if (fn === undefined) {
      throw new InvalidRequestError(`tools[${i}] must be { type: 'function', function: { name, parameters } }.`, `tools[${i}]`);
    }
    return fn;
  });
  if (choice === undefined || choice === null || choice === 'auto' || choice === 'none') return undefined;
  if (choice === 'required') return functions[0];
  const named = isRecord(choice) && choice.type === 'function' && isRecord(choice.function) ? choice.function.name : undefined;
  const match = functions.find((fn) => fn.name === named);
  if (match === undefined) {
    throw new InvalidRequestError(
      "'tool_choice' must be 'auto', 'none', 'required' or { type: 'function', function: { name } } naming one of the tools.",
      'tool_choice',
    );
  }
  return match;
}

export function parseChatRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw new InvalidRequestError('The request body must be a JSON object.', null);
  if (typeof body.model !== 'string' || body.model === '') {
    throw new InvalidRequestError('You must provide a model parameter.', 'model');
  }
  const format = body.response_format;
  return {
    model: body.model,
    messages: parseMessages(body.messages),
    stream: body.stream === true,
    includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true,
    maxTokens: parseMaxTokens(body),
    stop: parseStop(body.stop),
    jsonObject: isRecord(format) && format.type === 'json_object',
    tools: body.tools ?? undefined,
    forcedTool: parseForcedTool(body.tools, body.tool_choice),
  };
}
