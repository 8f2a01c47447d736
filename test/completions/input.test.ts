import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { snapshotCounts } from '../helpers/invariants.js';
import { startMutation, startServerWithSimulator } from '../helpers/completions.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
let key: string;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
  ({ key } = await fundedCustomer(server, '50'));
  await gqlOk(server, 'mutation { updateModel(input: { id: "claude-4-opus", enabled: false }) { id } }', { token: server.adminToken });
});
afterAll(() => server.stop());

const hello = [{ role: 'user', content: 'Hello' }];
const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

const badInputs: [string, Record<string, unknown>, RegExp][] = [
  ['an unknown model', { model: 'gpt-4o' }, /model/],
  ['a disabled model', { model: 'claude-4-opus' }, /disabled/],
  ['no messages', { messages: [] }, /messages/],
  ['a bad role', { messages: [{ role: 'robot', content: 'hi' }] }, /role/],
  ['empty content', { messages: [{ role: 'user', content: '' }] }, /content/],
  ['content that is a number', { messages: [{ role: 'user', content: 42 }] }, /content/],
  ['a content part of an unknown type', { messages: [{ role: 'user', content: [{ type: 'audio', data: 'x' }] }] }, /part/],
  ['an image that is not https or a data URI', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }, /image/],
  ['a tool message without toolCallId', { messages: [{ role: 'tool', content: '{}' }] }, /toolCallId/],
  ['an earlier tool call whose function name is 65 characters', { messages: [...hello, { role: 'assistant', toolCalls: [{ id: 'call_1', type: 'function', function: { name: 'f'.repeat(65), arguments: '{}' } }] }] }, /function name/],
  ['an earlier tool call whose id is 257 characters', { messages: [...hello, { role: 'assistant', toolCalls: [{ id: 'c'.repeat(257), type: 'function', function: { name: 'f', arguments: '{}' } }] }] }, /id/],
  ['maxTokens of zero', { maxTokens: 0 }, /maxTokens/],
  ['maxTokens above the model limit', { model: 'claude-3-5-haiku-latest', maxTokens: 8193 }, /maxTokens/],
  ['a temperature above 1', { temperature: 1.5 }, /temperature/],
  ['a negative temperature', { temperature: -0.1 }, /temperature/],
  ['a topP above 1', { topP: 2 }, /topP/],
  ['both temperature and topP', { temperature: 0.5, topP: 0.5 }, /not both/],
  ['five stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, /stop/],
  ['an empty stop sequence', { stop: [''] }, /stop/],
  ['tools that are not an array', { tools: { type: 'function' } }, /tools/],
  ['a tool without a function name', { tools: [{ type: 'function', function: {} }] }, /name/],
  ['a tool of another type', { tools: [{ type: 'retrieval' }] }, /tool/],
  ['tool parameters that are not an object schema', { tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, /parameters/],
  ['a toolChoice naming an unknown function', { tools: [weather], toolChoice: { type: 'function', function: { name: 'nope' } } }, /toolChoice/],
  ['toolChoice required without tools', { toolChoice: 'required' }, /toolChoice/],
  ['a malformed toolChoice', { tools: [weather], toolChoice: 'sometimes' }, /toolChoice/],
  ['a responseFormat of an unknown type', { responseFormat: { type: 'yaml' } }, /responseFormat/],
  ['a responseFormat that is a string', { responseFormat: 'json' }, /responseFormat/],
  ['a user id longer than 256 characters', { user: 'u'.repeat(257) }, /user/],
  ['an empty idempotency key', { idempotencyKey: '' }, /idempotencyKey/],
  ['maxTokens that is not an integer', { maxTokens: 10.5 }, /maxTokens|Int/],
];

describe('startCompletion input', () => {
  for (const [what, overrides, message] of badInputs) {
    it(`refuses ${what} with BAD_USER_INPUT before touching credits or the upstream`, async () => {
      const before = await snapshotCounts(server);
      const upstreamCalls = simulator.requests.length;
      const response = await gql(server, startMutation, {
        token: key,
        variables: { input: { model: 'claude-sonnet-4-6', messages: hello, ...overrides } },
      });
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.message).toMatch(message);
      expect(await snapshotCounts(server)).toEqual(before);
      expect(simulator.requests.length).toBe(upstreamCalls);
    });
  }

  it('accepts every parameter of the contract together and sends them upstream under their names', async () => {
    const input = {
      model: 'claude-sonnet-4-6',
      messages: [
        { role: 'system', content: 'Answer in JSON.' },
        { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      ],
      maxTokens: 200,
      temperature: 0.2,
      stop: ['END'],
      tools: [weather],
      toolChoice: 'auto',
      responseFormat: { type: 'json_object' },
      user: 'end-user-7',
    };
    const before = simulator.requests.length;
    await gqlOk(server, startMutation, { token: key, variables: { input } });
    await expect.poll(() => simulator.requests[before]?.body).toBeDefined();
    const body = simulator.requests[before]!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'anthropic/claude-sonnet-4-6',
      max_tokens: 200,
      temperature: 0.2,
      stop: ['END'],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      user: 'end-user-7',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(body.tools).toEqual([weather]);
    expect(body).not.toHaveProperty('top_p');
  });

  it('sends maxTokens 1024 upstream when none is given', async () => {
    await gqlOk(server, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: hello } } });
    await expect.poll(() => (simulator.requests.at(-1)?.body as { max_tokens?: number })?.max_tokens).toBe(1024);
  });

  it('refuses the admin an unknown account with NOT_FOUND', async () => {
    const response = await gql(server, startMutation, {
      token: server.adminToken,
      variables: { input: { model: 'claude-haiku-4-5', messages: hello, accountId: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(codeOf(response)).toBe('NOT_FOUND');
  });

  it('refuses the admin without an accountId with BAD_USER_INPUT', async () => {
    const response = await gql(server, startMutation, { token: server.adminToken, variables: { input: { model: 'claude-haiku-4-5', messages: hello } } });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });
});

describe('completion', () => {
  it('is null for an id that names no completion', async () => {
    const data = await gqlOk(server, 'query($id: ID!) { completion(id: $id) { id } }', { token: key, variables: { id: '00000000-0000-4000-8000-000000000000' } });
    expect(data.completion).toBeNull();
  });
});
