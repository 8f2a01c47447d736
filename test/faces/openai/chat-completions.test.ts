import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIError, BadRequestError, InternalServerError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { completionFields, startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import { openaiClient } from '../../helpers/openai-client.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  // No retries: a queued upstream fault fails its completion.
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_MAX_ATTEMPTS: '1' }));
});
afterAll(() => server.stop());

const model = 'claude-haiku-4-5';
const messages = [{ role: 'user' as const, content: 'Hello over REST' }];

/** The completion and the account's charges as GraphQL shows them to the key. */
async function overGraphQL(key: string, id: string) {
  const data = await gqlOk(
    server,
    `query($id: ID!) {
      completion(id: $id) { ${completionFields} }
      viewer { ledger(first: 10) { edges { node { amount kind completion { id } } } } }
    }`,
    { token: key, variables: { id } },
  );
  const charges = data.viewer.ledger.edges.map((e: any) => e.node).filter((n: any) => n.kind === 'CHARGE');
  return { completion: data.completion, charges };
}

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('POST /v1/chat/completions without streaming', () => {
  it('answers a chat.completion whose id, text, usage and cost are the stored completion and its ledger charge', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['Hello', ' from', ' REST', '.'] });
    const answer = await openaiClient(server, key).chat.completions.create({ model, messages });

    expect(answer).toMatchObject({ object: 'chat.completion', model: 'anthropic/claude-haiku-4-5' });
    expect(answer.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'Hello from REST.', refusal: null }, logprobs: null, finish_reason: 'stop' },
    ]);
    const { completion, charges } = await overGraphQL(key, answer.id);
    expect(completion).toMatchObject({ id: answer.id, status: 'SUCCEEDED', content: 'Hello from REST.', finishReason: 'stop' });
    expect(answer.usage).toEqual({
      prompt_tokens: completion.usage.promptTokens,
      completion_tokens: 4,
      total_tokens: completion.usage.totalTokens,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      cost: completion.cost,
      estimated: false,
    });
    expect(charges).toEqual([{ amount: `-${completion.cost}`, kind: 'CHARGE', completion: { id: answer.id } }]);
    await expectLedgerInvariant(server);
  });

  it('answers tool calls as message.tool_calls with null content', async () => {
    const { key } = await fundedCustomer(server);
    const answer = await openaiClient(server, key).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weather],
      tool_choice: 'required',
    });
    const choice = answer.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const { completion } = await overGraphQL(key, answer.id);
    expect(choice.message.tool_calls).toEqual(completion.toolCalls);
    expect(choice.message.tool_calls).toMatchObject([{ type: 'function', function: { name: 'get_weather' } }]);
    expect(JSON.parse((choice.message.tool_calls![0] as any).function.arguments)).toHaveProperty('city');
  });

  it('answers 502 with the upstream failure when the upstream fails, and charges nothing', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ fault: 'http500' });
    const error = await openaiClient(server, key).chat.completions.create({ model, messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    const failure = error as InternalServerError;
    expect(failure.status).toBe(502);
    expect(failure.type).toBe('upstream_error');
    expect(failure.code).toBe('upstream_http');
    const id = failure.headers?.get('x-completion-id');
    const { completion, charges } = await overGraphQL(key, id!);
    expect(completion).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_HTTP' } });
    expect(charges).toEqual([]);
    await expectLedgerInvariant(server);
  });

  it('answers 400 when the upstream refuses the request as invalid, and charges nothing', async () => {
    const { key } = await fundedCustomer(server);
    const error = await openaiClient(server, key).chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi [sim:bogus]' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe('upstream_refused');
    const { completion, charges } = await overGraphQL(key, (error as BadRequestError).headers?.get('x-completion-id')!);
    expect(completion).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_REFUSED' } });
    expect(charges).toEqual([]);
  });

  it('returns the same completion, charged once, for a retry with the same Idempotency-Key', async () => {
    const { key } = await fundedCustomer(server);
    const client = openaiClient(server, key);
    const headers = { 'Idempotency-Key': 'rest-retry-1' };
    const first = await client.chat.completions.create({ model, messages }, { headers });
    const retry = await client.chat.completions.create({ model, messages }, { headers });
    expect(retry).toEqual(first);
    expect((await overGraphQL(key, first.id)).charges).toHaveLength(1);
  });

  it('answers 409 idempotency_key_reused when the Idempotency-Key comes back with another request', async () => {
    const { key } = await fundedCustomer(server);
    const client = openaiClient(server, key);
    const headers = { 'Idempotency-Key': 'rest-reused' };
    await client.chat.completions.create({ model, messages }, { headers });
    const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Something else' }] }, { headers }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(409);
    expect((error as APIError).error).toMatchObject({ type: 'invalid_request_error', code: 'idempotency_key_reused', param: 'Idempotency-Key' });
  });

  it('passes OpenAI-only forms upstream in their gateway meaning: stop as a string, the developer role, max_completion_tokens', async () => {
    const { key } = await fundedCustomer(server);
    await openaiClient(server, key).chat.completions.create({
      model,
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      stop: 'END',
      max_completion_tokens: 50,
    });
    const sent = simulator.requests.at(-1)!.body as any;
    expect(sent).toMatchObject({ stop: ['END'], max_tokens: 50, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] });
  });
});

describe('POST /v1/chat/completions with stream: true', () => {
  it('streams a role chunk, deltas that assemble to the upstream text, the finish reason and a usage chunk', async () => {
    const { key } = await fundedCustomer(server);
    const tokens = ['Hel', 'lo', ', ', 'wörld', ' 👋', '!'];
    simulator.enqueue({ tokens, interTokenMs: 5 });
    const stream = await openaiClient(server, key).chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const id = chunks[0]!.id;
    expect(chunks.every((c) => c.id === id && c.object === 'chat.completion.chunk' && c.model === 'anthropic/claude-haiku-4-5')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(tokens.join(''));
    const [finish, usage] = chunks.slice(-2);
    expect(finish!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(usage!.choices).toEqual([]);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    const { completion, charges } = await overGraphQL(key, id);
    expect(completion).toMatchObject({ status: 'SUCCEEDED', content: tokens.join('') });
    expect(usage!.usage).toEqual({
      prompt_tokens: completion.usage.promptTokens,
      completion_tokens: tokens.length,
      total_tokens: completion.usage.totalTokens,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      cost: completion.cost,
      estimated: false,
    });
    expect(charges).toEqual([{ amount: `-${completion.cost}`, kind: 'CHARGE', completion: { id } }]);
    await expectLedgerInvariant(server);
  });

  it('sends no usage chunk unless stream_options.include_usage asks for it', async () => {
    const { key } = await fundedCustomer(server);
    const stream = await openaiClient(server, key).chat.completions.create({ model, messages, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
  });

  it('streams tool calls that the SDK assembles into the tool_calls GraphQL stored', async () => {
    const { key } = await fundedCustomer(server);
    const stream = openaiClient(server, key).chat.completions.stream({
      model,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [weather],
      tool_choice: 'required',
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const { completion } = await overGraphQL(key, final.id);
    expect(completion.finishReason).toBe('tool_calls');
    expect(choice.message.tool_calls?.map(({ id, type, function: f }: any) => ({ id, type, function: { name: f.name, arguments: f.arguments } }))).toEqual(
      completion.toolCalls,
    );
  });

  it('ends with an error event, which the SDK raises, when the upstream fails mid-stream; nothing is charged', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['one ', 'two ', 'three ', 'four'], fault: 'reset', afterTokens: 2 });
    const stream = await openaiClient(server, key).chat.completions.create({ model, messages, stream: true });
    let text = '';
    let id = '';
    const error = await (async () => {
      for await (const chunk of stream) {
        id = chunk.id;
        text += chunk.choices[0]?.delta.content ?? '';
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).code).toBe('upstream_network');
    expect(text).toBe('one two ');
    const { completion, charges } = await overGraphQL(key, id);
    expect(completion).toMatchObject({ status: 'FAILED', cost: '0.00' });
    expect(charges).toEqual([]);
    await expectLedgerInvariant(server);
  });

  it('ends with a cancelled error when the completion is cancelled over GraphQL', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 300, interTokenMs: 20 });
    const stream = await openaiClient(server, key).chat.completions.create({ model, messages, stream: true });
    const error = await (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) {
          await gqlOk(server, 'mutation($id: ID!) { cancelCompletion(id: $id) { status } }', { token: key, variables: { id: chunk.id } });
        }
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toMatchObject({ type: 'invalid_request_error', code: 'cancelled' });
    await expectLedgerInvariant(server);
  });
});
