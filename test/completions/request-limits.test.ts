import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { startCompletion, startMutation, startServerWithSimulator } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, type GraphQLResponse } from '../helpers/graphql.js';
import { snapshotCounts } from '../helpers/invariants.js';
import type { TestServer } from '../helpers/server.js';

// Hostile completion requests get a clear error naming the field, on every
// face, and change nothing; and whatever is forwarded upstream is reserved for.

let server: TestServer;
let simulator: Simulator;
let key: string;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
  ({ key } = await fundedCustomer(server, '50'));
});
afterAll(() => server.stop());

const deeply = (depth: number, leaf: string) => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
const deepTool = (depth: number) => `[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":${deeply(depth, '1')}}}}]`;
const hello = '[{"role":"user","content":"hi"}]';

/** A raw JSON body (such values cannot go through JSON.stringify, which recurses). */
async function post(path: string, body: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: await response.json() };
}

const graphqlStart = (input: string) => post('/graphql', `{"query":${JSON.stringify(startMutation)},"variables":{"input":${input}}}`);
const restStart = (fields: string) => post('/v1/chat/completions', `{"model":"claude-haiku-4-5",${fields}}`);

/** Runs `attempt` and checks that it stored nothing and called no upstream. */
async function changesNothing<T>(attempt: () => Promise<T>): Promise<T> {
  const before = await snapshotCounts(server);
  const calls = simulator.requests.length;
  const outcome = await attempt();
  expect(await snapshotCounts(server)).toEqual(before);
  expect(simulator.requests.length).toBe(calls);
  return outcome;
}

describe('a completion request over GraphQL', () => {
  it('with tools nested 20,000 deep is BAD_USER_INPUT naming tools', async () => {
    const { body } = await changesNothing(() => graphqlStart(`{"model":"claude-haiku-4-5","messages":${hello},"tools":${deepTool(20_000)}}`));
    expect(codeOf(body as GraphQLResponse)).toBe('BAD_USER_INPUT');
    expect(body.errors[0].extensions.field).toBe('tools');
    expect(body.errors[0].message).toMatch(/deeper than 32 levels/);
  });

  it('with content parts nested 20,000 deep is BAD_USER_INPUT naming the content', async () => {
    const parts = `[{"type":"text","text":"hi","extra":${deeply(20_000, '1')}}]`;
    const { body } = await changesNothing(() => graphqlStart(`{"model":"claude-haiku-4-5","messages":[{"role":"user","content":${parts}}]}`));
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'messages[0].content' });
  });

  it('with a toolCallId of 900 KB is BAD_USER_INPUT naming it', async () => {
    const messages = `[{"role":"user","content":"hi"},{"role":"assistant","toolCalls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","toolCallId":"${'x'.repeat(900_000)}","content":"ok"}]`;
    const { body } = await changesNothing(() => graphqlStart(`{"model":"claude-haiku-4-5","messages":${messages}}`));
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'messages[2].toolCallId' });
  });
});

describe('a completion request over the OpenAI REST face', () => {
  it('with more than 10,000 messages is 400 naming messages, and changes nothing', async () => {
    const turns = Array.from({ length: 10_001 }, (_, i) => (i % 2 === 0 ? '{"role":"user","content":"u"}' : '{"role":"assistant","content":"a"}'));
    const { status, body } = await changesNothing(() => restStart(`"messages":[${turns.join(',')}]`));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages', message: expect.stringContaining('at most 10000 messages') });
  });

  it('with U+0000 or a lone surrogate in message text is answered, the text sent upstream without them', async () => {
    const before = simulator.requests.length;
    const content = '[{"type":"text","text":"c\\u0000d\\ud800"}]';
    const { status } = await restStart(`"messages":[{"role":"user","content":"a\\u0000b"},{"role":"assistant","content":"ok"},{"role":"user","content":${content}}]`);
    expect(status).toBe(200);
    const sent = simulator.requests[before]!.body as { messages: { content: unknown }[] };
    expect(sent.messages.map((m) => m.content)).toEqual(['ab', 'ok', [{ type: 'text', text: 'cd\ufffd' }]]);
  });

  it("with U+0000 in a tool's key is 400 naming that key", async () => {
    const tools = '[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"ci\\u0000ty":{"type":"string"}}}}}]';
    const { status, body } = await changesNothing(() => restStart(`"messages":${hello},"tools":${tools}`));
    expect(status).toBe(400);
    expect(body.error.param).toBe('tools[0].function.parameters.properties.ci\u0000ty');
  });

  it('with tools nested 20,000 deep is 400 naming tools', async () => {
    const { status, body } = await changesNothing(() => restStart(`"messages":${hello},"tools":${deepTool(20_000)}`));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'tools' });
  });

  it('with content nested 20,000 deep is 400 naming the content', async () => {
    const parts = `[{"type":"text","text":"hi","extra":${deeply(20_000, '1')}}]`;
    const { status, body } = await changesNothing(() => restStart(`"messages":[{"role":"user","content":${parts}}]`));
    expect(status).toBe(400);
    expect(body.error.param).toBe('messages[0].content');
  });

  it('with a stop sequence holding U+0000 is 400 naming it', async () => {
    const { status, body } = await changesNothing(() => restStart(`"messages":${hello},"stop":["ok","\\u0000"]`));
    expect(status).toBe(400);
    expect(body.error.param).toBe('stop[1]');
  });
});

describe('the worst-case reservation', () => {
  const toolTurn = (toolCallId: string, name?: string) => [
    { role: 'user', content: 'Weather?' },
    { role: 'assistant', toolCalls: [{ id: toolCallId, type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
    { role: 'tool', toolCallId, content: 'sunny', ...(name ? { name } : {}) },
  ];
  const units = (money: string) => BigInt(money.replace('.', '').padEnd(money.indexOf('.') + 9, '0'));
  // Haiku 4.5 input: 1.00 per million tokens, 1,000 nanocredits a token.
  const perInputToken = 1000n;

  it('counts every byte of the toolCallId and name forwarded upstream', async () => {
    const short = await startCompletion(server, key, { messages: toolTurn('c') });
    const long = await startCompletion(server, key, { messages: toolTurn('c'.repeat(201), 'n'.repeat(64)) });
    // The id appears twice (the call and its answer); the name once.
    expect(units(long.reserved) - units(short.reserved)).toBeGreaterThanOrEqual((2n * 200n + 64n) * perInputToken);
  });

  it("adds the tool-use system prompt Claude adds when tools are given (500 tokens)", async () => {
    const tool = { type: 'function', function: { name: 'f' } };
    const plain = await startCompletion(server, key, {});
    const withTool = await startCompletion(server, key, { tools: [tool] });
    expect(units(withTool.reserved) - units(plain.reserved)).toBeGreaterThanOrEqual(500n * perInputToken);
  });
});
