import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import { USER_HELLO, post, rawStream, sseData } from '../upstream/harness.js';

let simulator: Simulator;
beforeEach(async () => {
  simulator = await startSimulator();
});
afterEach(async () => {
  await simulator.close();
});

describe('simulator wire format', () => {
  it('streams a role chunk, one chunk per token, a finish chunk, a usage chunk and [DONE]', async () => {
    simulator.enqueue({ tokens: ['Hel', 'lo', '!'] });
    const response = await post(simulator, {
      model: 'm',
      messages: USER_HELLO,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line));

    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', id: chunks[0].id, model: 'm' });
      expect(typeof chunk.created).toBe('number');
    }
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hel' },
      { content: 'lo' },
      { content: '!' },
      {},
      undefined,
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, null, 'stop', undefined]);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });

  it('answers scripted tool calls after scripted text, each call a header delta and argument fragments', async () => {
    simulator.enqueue({ text: 'Running it.', toolCalls: [{ name: 'Bash', arguments: { command: 'echo hi' } }, { name: 'Read', arguments: '{"path":' }] });
    const { chunks } = await rawStream(simulator, { model: 'm', messages: USER_HELLO });
    const deltas = chunks.map((c) => c.choices[0]?.delta).filter((d) => d && !('role' in d) && Object.keys(d).length > 0);
    expect(deltas.slice(0, 2)).toEqual([{ content: 'Running' }, { content: ' it.' }]);
    const calls = deltas.slice(2).map((d: any) => d.tool_calls[0]);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'Bash', arguments: '' } });
    const argumentsOf = (index: number) => calls.filter((c: any) => c.index === index).map((c: any) => c.function.arguments).join('');
    expect(argumentsOf(0)).toBe('{"command":"echo hi"}');
    expect(argumentsOf(1)).toBe('{"path":');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    simulator.enqueue({ toolCalls: [{ name: 'Bash', arguments: { command: 'echo hi' } }] });
    const whole = await (await post(simulator, { model: 'm', messages: USER_HELLO })).json();
    expect(whole.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ type: 'function', function: { name: 'Bash', arguments: '{"command":"echo hi"}' } }] },
    });
  });

  it('sends no usage at all when include_usage is not requested', async () => {
    const { chunks, done } = await rawStream(simulator, { model: 'm', messages: USER_HELLO });
    expect(done).toBe(true);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers a non-streaming request with a chat.completion object', async () => {
    simulator.enqueue({ text: 'Short answer.' });
    const response = await post(simulator, { model: 'm', messages: USER_HELLO });
    const body = await response.json();
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Short answer.' }, finish_reason: 'stop' }],
      usage: { completion_tokens: 2 },
    });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 2);
  });

  it('estimates prompt tokens as ceil(characters / 4) + 4 per message', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' }, // 9 characters
      { role: 'user', content: [{ type: 'text', text: 'Hello there' }] }, // 11 characters
    ];
    const { chunks } = await rawStream(simulator, { model: 'm', messages, stream_options: { include_usage: true } });
    expect(chunks.at(-1)?.usage?.prompt_tokens).toBe(Math.ceil(20 / 4) + 2 * 4);
  });

  it('derives the same default answer from the same prompt and a different one from another', async () => {
    const answer = async (content: string) =>
      (await (await post(simulator, { model: 'm', messages: [{ role: 'user', content }] })).json()).choices[0].message.content;
    const first = await answer('What is the capital of France?');
    expect(await answer('What is the capital of France?')).toBe(first);
    expect(first).toContain('What is the capital of France?');
    expect(await answer('Something else entirely')).not.toBe(first);
  });

  it('lists the models in the OpenAI list shape', async () => {
    const response = await fetch(`${simulator.baseUrl}/models`, { headers: { authorization: 'Bearer x' } });
    const body = await response.json();
    expect(body.object).toBe('list');
    expect(body.data).toContainEqual({
      id: 'anthropic/claude-sonnet-4-6',
      object: 'model',
      created: expect.any(Number),
      owned_by: 'anthropic',
    });
  });

  it('answers 401 with an OpenAI error body when the Authorization header is missing', async () => {
    const response = await fetch(`${simulator.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: USER_HELLO }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining('API key'), type: 'invalid_request_error', param: null, code: null },
    });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await post(simulator, '{oops');
    expect(response.status).toBe(400);
    expect((await response.json()).error.type).toBe('invalid_request_error');
  });

  it('answers 413 with an OpenAI error body for a body over 20 MB', async () => {
    const response = await post(simulator, { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(21 * 1024 * 1024) }] });
    expect(response.status).toBe(413);
    expect((await response.json()).error.type).toBe('invalid_request_error');
  });

  it('answers 400 naming the parameter when model or messages are missing', async () => {
    const noModel = await post(simulator, { messages: USER_HELLO });
    expect(noModel.status).toBe(400);
    expect((await noModel.json()).error.param).toBe('model');
    const noMessages = await post(simulator, { model: 'm' });
    expect(noMessages.status).toBe(400);
    expect((await noMessages.json()).error.param).toBe('messages');
  });

  it('records each request with its body and headers', async () => {
    await (await post(simulator, { model: 'm', messages: USER_HELLO })).text();
    const record = simulator.requests[0];
    expect(record?.body).toEqual({ model: 'm', messages: USER_HELLO });
    expect(record?.headers.authorization).toBe('Bearer th-anything');
    expect(record?.path).toBe('/v1/chat/completions');
    expect(await record?.finished).toBe('completed');
    expect(record?.closedByClient).toBe(false);
  });

  it('uses queued scripts one request each, in order, then the default answer', async () => {
    simulator.enqueue({ text: 'first' });
    simulator.enqueue({ text: 'second' });
    const content = async () =>
      (await (await post(simulator, { model: 'm', messages: USER_HELLO })).json()).choices[0].message.content;
    expect(await content()).toBe('first');
    expect(await content()).toBe('second');
    expect(await content()).toContain('Hello there');
  });
});

describe('simulator timing', () => {
  it('sends headers at once and the first chunk after ttftMs', async () => {
    simulator.setTiming({ ttftMs: 150 });
    simulator.enqueue({ tokens: ['a'] });
    const start = performance.now();
    const response = await post(simulator, { model: 'm', messages: USER_HELLO, stream: true });
    expect(performance.now() - start).toBeLessThan(120);
    const reader = response.body!.getReader();
    await reader.read();
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    await reader.cancel();
  });

  it('waits interTokenMs between token chunks', async () => {
    simulator.setTiming({ interTokenMs: 30 });
    simulator.enqueue({ tokens: ['a', 'b', 'c', 'd'] });
    const start = performance.now();
    await rawStream(simulator, { model: 'm', messages: USER_HELLO });
    expect(performance.now() - start).toBeGreaterThanOrEqual(85);
  });
});

describe('simulator faults on the wire', () => {
  it('answers http429 with a retry-after header and an OpenAI error body', async () => {
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 7 });
    const response = await post(simulator, { model: 'm', messages: USER_HELLO, stream: true });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect((await response.json()).error.code).toBe('rate_limit_exceeded');
    expect(await simulator.requests[0]?.finished).toBe('fault');
  });

  it('sends a data: {not json line after the given number of tokens for malformed', async () => {
    simulator.enqueue({ tokens: ['a', 'b', 'c'], fault: 'malformed', afterTokens: 2 });
    const response = await post(simulator, { model: 'm', messages: USER_HELLO, stream: true });
    const data = sseData(await response.text());
    expect(data).toHaveLength(4); // role, a, b, the broken line
    expect(data.at(-1)).toBe('{not json');
  });

  it('leaves out created everywhere with omitCreated', async () => {
    simulator.enqueue({ omitCreated: true });
    const { chunks } = await rawStream(simulator, { model: 'm', messages: USER_HELLO, stream_options: { include_usage: true } });
    expect(chunks.some((c) => 'created' in c)).toBe(false);
  });

  it('puts finish_reason on the last content chunk with finishOnLastContent', async () => {
    simulator.enqueue({ tokens: ['a', 'b'], finishOnLastContent: true });
    const { chunks } = await rawStream(simulator, { model: 'm', messages: USER_HELLO });
    expect(chunks.map((c) => [c.choices[0]?.delta.content, c.choices[0]?.finish_reason])).toEqual([
      ['', null],
      ['a', null],
      ['b', 'stop'],
    ]);
  });

  it('never sends usage with noUsage, even when asked', async () => {
    simulator.enqueue({ noUsage: true });
    const { chunks, done } = await rawStream(simulator, { model: 'm', messages: USER_HELLO, stream_options: { include_usage: true } });
    expect(done).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('ends a stalled request as a fault when the simulator closes', async () => {
    simulator.enqueue({ fault: 'stall' });
    const response = await post(simulator, { model: 'm', messages: USER_HELLO, stream: true });
    const body = response.text().catch(() => 'closed');
    await simulator.close();
    expect(await simulator.requests[0]?.finished).toBe('fault');
    expect(simulator.requests[0]?.closedByClient).toBe(false);
    await body;
    simulator = await startSimulator(); // afterEach closes this one
  });
});
