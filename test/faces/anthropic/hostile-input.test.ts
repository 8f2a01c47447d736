import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessages } from '../../helpers/anthropic-sse.js';
import { startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { snapshotCounts } from '../../helpers/invariants.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let key: string;
beforeAll(async () => {
  ({ server } = await startServerWithSimulator({ MAX_COMPLETION_REQUEST_BYTES: String(1024 * 1024) }));
  ({ key } = await fundedCustomer(server));
});
afterAll(() => server.stop());

const valid = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] };
const withMessage = (content: unknown, role = 'user') => ({ ...valid, messages: [{ role, content }] });
// Built as text: a value this deep would overflow the test's own JSON.stringify.
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

// Each is refused with 400 invalid_request_error before anything is stored, reserved or sent upstream.
const refused: [string, unknown][] = [
  ['a body that is not JSON', '{"model": '],
  ['a JSON array', '[]'],
  ['a JSON string', '"hello"'],
  ['null', 'null'],
  ['a numeric model', { ...valid, model: 5 }],
  ['max_tokens as a string', { ...valid, max_tokens: '100' }],
  ['a fractional max_tokens', { ...valid, max_tokens: 1.5 }],
  ['a negative max_tokens', { ...valid, max_tokens: -1 }],
  ['an astronomical max_tokens', { ...valid, max_tokens: 1e20 }],
  ['no max_tokens', { model: valid.model, messages: valid.messages }],
  ['messages that are an object', { ...valid, messages: { role: 'user' } }],
  ['no messages', { ...valid, messages: [] }],
  ['a null message', { ...valid, messages: [null] }],
  ['a tool role', { ...valid, messages: [{ role: 'tool', content: 'x' }] }],
  ['no role', { ...valid, messages: [{ content: 'x' }] }],
  ['numeric content', withMessage(42)],
  ['empty content', withMessage('')],
  ['a block without a type', withMessage([{ text: 'x' }])],
  ['an unknown block type', withMessage([{ type: 'banana', text: 'x' }])],
  ["Anthropic's server tool blocks", withMessage([{ type: 'server_tool_use', id: 'x', name: 'web_search', input: {} }], 'assistant')],
  ['a search result inside a tool result', withMessage([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'search_result', source: 'x', title: 'x', content: [] }] }])],
  ['an image without a source', withMessage([{ type: 'image' }])],
  ['an SVG image', withMessage([{ type: 'image', source: { type: 'base64', media_type: 'image/svg+xml', data: 'PHN2Zz4=' } }])],
  ['an image over plain http', withMessage([{ type: 'image', source: { type: 'url', url: 'http://example.com/a.png' } }])],
  ['a PDF document', withMessage([{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }])],
  ['tool_use in a user message', withMessage([{ type: 'tool_use', id: 't', name: 'x', input: {} }])],
  ['tool_result in an assistant message', withMessage([{ type: 'tool_result', tool_use_id: 't', content: 'x' }], 'assistant')],
  ['tool_use input that is an array', withMessage([{ type: 'tool_use', id: 't', name: 'x', input: [1] }], 'assistant')],
  ['a numeric tool_result content', withMessage([{ type: 'tool_result', tool_use_id: 't', content: 7 }])],
  ['a tool_result without tool_use_id', withMessage([{ type: 'tool_result', content: 'x' }])],
  ['tools that are not an array', { ...valid, tools: { name: 'x' } }],
  ["Anthropic's web search tool", { ...valid, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }],
  ['a tool schema that is a string', { ...valid, tools: [{ name: 'x', input_schema: 'object' }] }],
  ['an unknown tool_choice', { ...valid, tools: [{ name: 'x', input_schema: { type: 'object' } }], tool_choice: { type: 'banana' } }],
  ['tool_choice naming a missing tool', { ...valid, tools: [{ name: 'x', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'y' } }],
  ['stop sequences that are not strings', { ...valid, stop_sequences: [1, 2] }],
  ['an empty stop sequence', { ...valid, stop_sequences: [''] }],
  ['a cache_control that is not ephemeral', withMessage([{ type: 'text', text: 'x', cache_control: { type: 'forever' } }])],
  ['a numeric system', { ...valid, system: 5 }],
  ['a block of unknown type inside a document\'s content', withMessage([{ type: 'document', source: { type: 'content', content: [{ type: 'banana', text: 'smuggled' }] } }])],
  ['an image in the system prompt', { ...valid, system: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }],
  ['a numeric metadata.user_id', { ...valid, metadata: { user_id: 5 } }],
  [
    'tool input nested 5,000 deep',
    `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"x","input":${nested(5_000)}}]}]}`,
  ],
  ['a tool schema nested 100 deep', `{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"x","input_schema":${nested(100)}}]}`],
];

describe('hostile input to POST /v1/messages', () => {
  for (const [what, body] of refused) {
    it(`refuses ${what} with 400 invalid_request_error and changes nothing`, async () => {
      const before = await snapshotCounts(server);
      const answer = await postMessages(server, key, body);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } });
      expect(answer.headers.get('x-should-retry')).toBe('false');
      expect(await snapshotCounts(server)).toEqual(before);
    });
  }

  it('refuses a body over MAX_COMPLETION_REQUEST_BYTES with 413 request_too_large and changes nothing', async () => {
    const before = await snapshotCounts(server);
    const answer = await postMessages(server, key, withMessage('x'.repeat(1_100_000)));
    expect(answer.status).toBe(413);
    expect(answer.json.error.type).toBe('request_too_large');
    expect(await snapshotCounts(server)).toEqual(before);
  });
});
