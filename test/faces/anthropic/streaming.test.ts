import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIError, InternalServerError } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { anthropicClient } from '../../helpers/anthropic-client.js';
import { postMessages } from '../../helpers/anthropic-sse.js';
import { completionFields, startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  // Long enough for an upstream that is silent past a ping interval (5 s).
  // No retries: a queued upstream fault fails its completion.
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '20000', UPSTREAM_IDLE_TIMEOUT_MS: '20000', UPSTREAM_MAX_ATTEMPTS: '1' }));
});
afterAll(() => server.stop());

const model = 'claude-haiku-4-5';
const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Stream to me' }];
const bash: Anthropic.Tool = { name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } };

async function completion(key: string, id: string) {
  return (await gqlOk(server, `query($id: ID!) { completion(id: $id) { ${completionFields} } }`, { token: key, variables: { id } })).completion;
}

describe('POST /v1/messages with stream: true', () => {
  it('sends message_start, a text block with its deltas, message_delta with the stop reason and usage, then message_stop', async () => {
    const { key } = await fundedCustomer(server);
    const tokens = ['Hel', 'lo', ', ', 'wörld', ' 👋'];
    simulator.enqueue({ tokens, interTokenMs: 5 });
    const { status, headers, frames } = await postMessages(server, key, { model, max_tokens: 100, messages, stream: true });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
    const names = frames.map((f) => f.event);
    expect(names[0]).toBe('message_start');
    expect(names[1]).toBe('content_block_start');
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(new Set(names.slice(2, -3))).toEqual(new Set(['content_block_delta']));
    expect(frames.every((f) => f.data.type === f.event)).toBe(true);
    expect(frames[0]!.data.message).toMatchObject({ type: 'message', role: 'assistant', model, content: [], stop_reason: null });
    expect(frames[1]!.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(frames.filter((f) => f.event === 'content_block_delta').map((f) => f.data.delta.text).join('')).toBe(tokens.join(''));

    const stored = await completion(key, headers.get('x-completion-id')!);
    expect(frames.at(-2)!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: stored.usage.promptTokens, output_tokens: tokens.length, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    expect(stored).toMatchObject({ status: 'SUCCEEDED', content: tokens.join('') });
    await expectLedgerInvariant(server);
  });

  it("gives the SDK's MessageStream the stored completion's text and usage", async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['One', ' two', ' three'], cachedPromptTokens: 2 });
    const stream = anthropicClient(server, key).messages.stream({ model, max_tokens: 100, messages });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const final = await stream.finalMessage();
    const stored = await completion(key, final.id.replace(/^msg_/, ''));
    expect(texts.join('')).toBe('One two three');
    expect(final.content).toEqual([{ type: 'text', text: 'One two three' }]);
    expect(final.usage).toMatchObject({ input_tokens: stored.usage.promptTokens - 2, output_tokens: 3, cache_read_input_tokens: 2, cache_creation_input_tokens: 0 });
  });

  it('streams text then a tool_use block whose input_json_delta fragments the SDK assembles into the input', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ text: 'Running it.', toolCalls: [{ name: 'Bash', arguments: { command: 'echo hi && ls -la /tmp' } }], interTokenMs: 2 });
    const { frames } = await postMessages(server, key, { model, max_tokens: 200, tools: [bash], messages, stream: true });
    const starts = frames.filter((f) => f.event === 'content_block_start').map((f) => f.data);
    expect(starts).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: expect.stringMatching(/^[A-Za-z0-9_-]+$/), name: 'Bash', input: {} } },
    ]);
    const fragments = frames.filter((f) => f.data.delta?.type === 'input_json_delta');
    expect(fragments.length).toBeGreaterThan(1);
    expect(fragments.every((f) => f.data.index === 1)).toBe(true);
    expect(JSON.parse(fragments.map((f) => f.data.delta.partial_json).join(''))).toEqual({ command: 'echo hi && ls -la /tmp' });
    expect(frames.filter((f) => f.event === 'content_block_stop').map((f) => f.data.index)).toEqual([0, 1]);
    expect(frames.at(-2)!.data.delta.stop_reason).toBe('tool_use');

    simulator.enqueue({ toolCalls: [{ name: 'Bash', arguments: { command: 'pwd' } }] });
    const final = await anthropicClient(server, key).messages.stream({ model, max_tokens: 200, tools: [bash], messages }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'Bash', input: { command: 'pwd' } }]);
  });

  it('ends a stream that reached max_tokens with stop_reason max_tokens', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 50 });
    const final = await anthropicClient(server, key).messages.stream({ model, max_tokens: 7, messages }).finalMessage();
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(7);
  });

  it('ends with an error event and no message_stop when the upstream fails after the stream began; nothing is charged', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['one ', 'two ', 'three ', 'four'], fault: 'reset', afterTokens: 2 });
    const { frames, headers } = await postMessages(server, key, { model, max_tokens: 100, messages, stream: true });
    expect(frames.at(-1)!.event).toBe('error');
    expect(frames.at(-1)!.data).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('nothing was charged') } });
    expect(frames.map((f) => f.event)).not.toContain('message_stop');
    expect(frames.map((f) => f.event)).not.toContain('message_delta');
    expect(await completion(key, headers.get('x-completion-id')!)).toMatchObject({ status: 'FAILED', cost: '0.00' });

    simulator.enqueue({ tokens: ['one ', 'two ', 'three ', 'four'], fault: 'reset', afterTokens: 2 });
    const error = await anthropicClient(server, key).messages.stream({ model, max_tokens: 100, messages }).finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe('api_error');
    await expectLedgerInvariant(server);
  });

  it('answers a real HTTP status when the upstream fails before the first token, which the SDK raises by class', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ fault: 'http500' });
    const failed = await postMessages(server, key, { model, max_tokens: 100, messages, stream: true });
    expect(failed.status).toBe(502);
    expect(failed.json).toMatchObject({ type: 'error', error: { type: 'api_error' }, request_id: failed.headers.get('request-id') });

    simulator.enqueue({ fault: 'http500' });
    const error = await anthropicClient(server, key).messages.stream({ model, max_tokens: 100, messages }).finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
  });

  it('sends ping events while the upstream is silent', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ text: 'Finally.', ttftMs: 5_600 });
    const started = Date.now();
    const { frames } = await postMessages(server, key, { model, max_tokens: 100, messages, stream: true });
    expect(Date.now() - started).toBeGreaterThan(5_000);
    const names = frames.map((f) => f.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
    expect(frames[1]!.data).toEqual({ type: 'ping' });
    expect(names.at(-1)).toBe('message_stop');
  }, 20_000);
});

/** A chunk of tool-call deltas as an upstream may send it. */
const toolChunk = (calls: unknown[]) =>
  JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: calls }, finish_reason: null }] });

describe('a streamed tool call the upstream sends in odd pieces', () => {
  it('opens its tool_use block with the whole name when the upstream split the name over deltas', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({
      tokens: [],
      finishReason: 'tool_calls',
      rawChunks: [
        toolChunk([{ index: 0, id: 'call_1', type: 'function', function: { name: 'Ba', arguments: '' } }]),
        toolChunk([{ index: 0, function: { name: 'sh' } }]),
        toolChunk([{ index: 0, function: { arguments: '{"command":' } }]),
        toolChunk([{ index: 0, function: { arguments: '"ls"}' } }]),
      ],
    });
    const { frames } = await postMessages(server, key, { model, max_tokens: 100, messages, tools: [bash], stream: true });
    const starts = frames.filter((f) => f.event === 'content_block_start').map((f) => f.data.content_block);
    expect(starts).toEqual([{ type: 'tool_use', id: 'call_1', name: 'Bash', input: {} }]);
    const json = frames.filter((f) => f.data.delta?.type === 'input_json_delta').map((f) => f.data.delta.partial_json);
    expect(json.join('')).toBe('{"command":"ls"}');
    expect(frames.at(-2)!.data.delta.stop_reason).toBe('tool_use');
  });

  it('announces the same id as the stored call, the first one, when the upstream changes it or sends none', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({
      tokens: [],
      finishReason: 'tool_calls',
      rawChunks: [
        toolChunk([{ index: 0, id: 'call_A', type: 'function', function: { name: 'Bash', arguments: '{' } }]),
        toolChunk([{ index: 0, id: 'call_B', function: { arguments: '}' } }]),
        toolChunk([{ index: 1, type: 'function', function: { name: 'Bash', arguments: '{}' } }]),
      ],
    });
    const { headers, frames } = await postMessages(server, key, { model, max_tokens: 100, messages, tools: [bash], stream: true });
    const streamed = frames.filter((f) => f.event === 'content_block_start').map((f) => f.data.content_block.id);
    const stored = (await completion(key, headers.get('x-completion-id')!)).toolCalls.map((call: { id: string }) => call.id);
    expect(streamed[0]).toBe('call_A');
    expect(streamed[1]).toMatch(/^call_\w+_1$/);
    expect(stored).toEqual(streamed);
  });
});
