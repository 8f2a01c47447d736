import { invalidRequest } from './anthropic-errors.js';

// Anthropic's tools and tool_choice as OpenAI function definitions, which
// the domain validates (names, schemas, that a chosen tool exists).
//
// - A custom tool `{ name, description?, input_schema }` (no `type`, or
//   "custom") → `{ type: "function", function: { name, description,
//   parameters: input_schema } }`. Its `cache_control`, `defer_loading`
//   (Claude Code's tool search), `strict`, `eager_input_streaming`,
//   `input_examples` and `allowed_callers` are dropped: the upstream has no
//   such fields, and a deferred tool is simply offered.
// - Any other tool type (Anthropic's server tools such as web_search, or its
//   schema-less client tools such as bash_20250124) is refused: there is no
//   schema to send, and dropping it silently would change what the model can do.
// - tool_choice auto → "auto", any → "required", tool → that function,
//   none → "none"; `disable_parallel_tool_use` is ignored (the domain has
//   no such switch).

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function toolsOf(tools: unknown): unknown[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest(['tools'], 'must be an array of tools');
  // No tools at all is no tools; Claude Code can send an empty list.
  if (tools.length === 0) return undefined;
  return tools.map((tool, i) => {
    if (!isObject(tool)) throw invalidRequest(['tools', i], 'a tool is { "name", "description", "input_schema" }');
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      throw invalidRequest(
        ['tools', i, 'type'],
        `tools of type ${JSON.stringify(tool.type)} run on Anthropic's servers or need its built-in schemas; this gateway passes custom tools (name, description, input_schema) only`,
      );
    }
    const fn: Record<string, unknown> = { name: tool.name, parameters: tool.input_schema };
    if (tool.description !== undefined) fn.description = tool.description;
    return { type: 'function', function: fn };
  });
}

export function toolChoiceOf(choice: unknown): unknown {
  if (choice === undefined || choice === null) return undefined;
  if (!isObject(choice)) throw invalidRequest(['tool_choice'], 'is { "type": "auto" | "any" | "tool" | "none" }');
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      if (typeof choice.name !== 'string') throw invalidRequest(['tool_choice', 'name'], 'must name one of the tools');
      return { type: 'function', function: { name: choice.name } };
    default:
      throw invalidRequest(['tool_choice', 'type'], 'is "auto", "any", "tool" or "none"');
  }
}
