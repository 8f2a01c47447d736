import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openTracing } from '../../src/observability/tracing.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { anthropicClient } from '../helpers/anthropic-client.js';
import { startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { openaiClient } from '../helpers/openai-client.js';
import type { TestServer } from '../helpers/server.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

// The spans a completion leaves, read from an in-memory exporter the server
// is built with (the same seam as an OTLP exporter: a span processor).

const exporter = new InMemorySpanExporter();
let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  // A breaker that never opens here: a test fails calls on purpose.
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_BREAKER_THRESHOLD: '1000' }, { spanProcessor: new SimpleSpanProcessor({ exporter }) }));
  simulator.setTiming({ ttftMs: 0, interTokenMs: 0 });
});
afterAll(() => server?.stop());
beforeEach(() => exporter.reset());

const model = 'claude-haiku-4-5';
const startNamed = `mutation StartForTrace($input: CompletionInput!) { startCompletion(input: $input) { id } }`;

const spans = () => exporter.getFinishedSpans();
const parentOf = (span: ReadableSpan) => spans().find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
const childrenOf = (span: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);
const namesOf = (list: ReadableSpan[]) => list.map((s) => s.name).sort();

async function eventually<T>(find: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The ended span of completion `id`, once its request's span has ended too. */
async function completionSpan(id: string): Promise<ReadableSpan> {
  const span = await eventually(() => spans().find((s) => s.name === 'completion' && s.attributes['tokenhub.completion.id'] === id), `the span of completion ${id}`);
  await eventually(() => spans().find((s) => s.spanContext().traceId === span.spanContext().traceId && s.parentSpanContext === undefined), 'the root span');
  return span;
}

async function followToTheEnd(key: string, id: string) {
  const client = wsClient(server, key);
  try {
    const { data } = await collectFrom<{ completionStream: any }>(client, streamQuery, { id });
    return data.at(-1)!.completionStream.completion;
  } finally {
    await client.dispose();
  }
}

async function graphQLCompletion(key: string, input: Record<string, unknown> = {}) {
  const { startCompletion } = await gqlOk(server, startNamed, { token: key, variables: { input: { model, messages: userMessage('Hello there'), ...input } } });
  return followToTheEnd(key, startCompletion.id);
}

describe('traces', () => {
  it('follow a GraphQL completion in one trace: request, operation, completion, then its reservation, upstream call, first token and settlement', async () => {
    const { key, accountId, keyId } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['One', ' two', ' three'] });
    const final = await graphQLCompletion(key);
    expect(final.status).toBe('SUCCEEDED');

    const completion = await completionSpan(final.id);
    const operation = parentOf(completion)!;
    expect(operation).toMatchObject({ name: 'mutation StartForTrace', attributes: { 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'StartForTrace' } });
    const request = parentOf(operation)!;
    expect(request).toMatchObject({ name: 'POST /graphql', attributes: { 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 } });
    expect(request.parentSpanContext).toBeUndefined();
    const trace = spans().filter((s) => s.spanContext().traceId === request.spanContext().traceId);
    expect(namesOf(trace)).toEqual(['POST /graphql', 'completion', 'mutation StartForTrace', 'reservation', 'settlement', 'upstream.call']);

    expect(namesOf(childrenOf(completion))).toEqual(['reservation', 'settlement', 'upstream.call']);
    expect(completion.events.map((e) => e.name)).toEqual(['first token']);
    expect(completion.attributes).toMatchObject({
      'tokenhub.completion.id': final.id,
      'tokenhub.account.id': accountId,
      'tokenhub.api_key.id': keyId,
      'gen_ai.request.model': 'anthropic/claude-haiku-4-5',
      'gen_ai.response.model': 'anthropic/claude-haiku-4-5',
      'gen_ai.usage.input_tokens': final.usage.promptTokens,
      'gen_ai.usage.output_tokens': 3,
      'tokenhub.completion.status': 'SUCCEEDED',
      'tokenhub.charge.credits': final.cost,
    });
    expect(completion.status.code).not.toBe(2);
    const [reservation] = childrenOf(completion).filter((s) => s.name === 'reservation');
    expect(reservation!.attributes).toMatchObject({ 'tokenhub.reservation.outcome': 'reserved', 'tokenhub.reserved.credits': final.reserved });
    const [call] = childrenOf(completion).filter((s) => s.name === 'upstream.call');
    expect(call!.attributes).toMatchObject({ 'tokenhub.upstream.attempt': 1, 'tokenhub.upstream.outcome': 'answered' });
    // A completion outlives the mutation that started it.
    expect(completion.endTime[0] * 1e9 + completion.endTime[1]).toBeGreaterThan(operation.endTime[0] * 1e9 + operation.endTime[1]);
  });

  it('follow a REST completion under its HTTP request, named by its route', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ text: 'Hello from REST.' });
    const stream = await openaiClient(server, key).chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let id = '';
    for await (const chunk of stream) id ||= chunk.id;

    const completion = await eventually(() => spans().find((s) => s.name === 'completion'), 'the completion span');
    const request = parentOf(completion)!;
    expect(request).toMatchObject({ name: 'POST /v1/chat/completions', attributes: { 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 } });
    expect(id).toBe(completion.attributes['tokenhub.completion.id']);
    await completionSpan(completion.attributes['tokenhub.completion.id'] as string);
    expect(namesOf(childrenOf(completion))).toEqual(['reservation', 'settlement', 'upstream.call']);
    expect(completion.events.map((e) => e.name)).toEqual(['first token']);
  });

  it('show each upstream call of a retried completion, the failed one with its status', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ fault: 'http500' });
    simulator.enqueue({ words: 3 });
    const final = await graphQLCompletion(key);
    expect(final.status).toBe('SUCCEEDED');

    const calls = childrenOf(await completionSpan(final.id))
      .filter((s) => s.name === 'upstream.call')
      .sort((a, b) => (a.attributes['tokenhub.upstream.attempt'] as number) - (b.attributes['tokenhub.upstream.attempt'] as number));
    expect(calls.map((s) => s.attributes)).toEqual([
      expect.objectContaining({ 'tokenhub.upstream.attempt': 1, 'tokenhub.upstream.outcome': 'failed', 'http.response.status_code': 500, 'error.type': 'http' }),
      expect.objectContaining({ 'tokenhub.upstream.attempt': 2, 'tokenhub.upstream.outcome': 'answered' }),
    ]);
    expect(calls.map((s) => s.status.code)).toEqual([2, 0]);
  });

  it('mark a failed completion as an error, with its code and nothing charged', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['a', 'b'], fault: 'malformed', afterTokens: 1 });
    const final = await graphQLCompletion(key);
    expect(final).toMatchObject({ status: 'FAILED', error: { code: 'UPSTREAM_MALFORMED' } });

    const completion = await completionSpan(final.id);
    expect(completion.status).toEqual({ code: 2, message: 'UPSTREAM_MALFORMED' });
    expect(completion.attributes).toMatchObject({ 'tokenhub.completion.status': 'FAILED', 'error.type': 'UPSTREAM_MALFORMED', 'tokenhub.charge.credits': '0.00' });
    const settlement = childrenOf(completion).find((s) => s.name === 'settlement')!;
    expect(settlement.attributes['tokenhub.charge.credits']).toBe('0.00');
  });

  it('end a refused start at its reservation, with the refusal as the error', async () => {
    const { key } = await fundedCustomer(server, '0');
    const refused = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: startNamed, variables: { input: { model, messages: userMessage('Hi') } } }),
    });
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('INSUFFICIENT_CREDITS');

    const completion = await eventually(() => spans().find((s) => s.name === 'completion'), 'the completion span');
    expect(completion.status).toEqual({ code: 2, message: 'INSUFFICIENT_CREDITS' });
    expect(childrenOf(completion).map((s) => [s.name, s.attributes['tokenhub.reservation.outcome']])).toEqual([['reservation', 'insufficient-credits']]);
    const operation = parentOf(completion)!;
    expect(operation.status).toEqual({ code: 2, message: 'INSUFFICIENT_CREDITS' });
  });

  it('never hold a prompt, an API key, the admin token or generated text in any attribute or name', async () => {
    const { key } = await fundedCustomer(server);
    const { createApiKey } = await gqlOk(server, 'mutation { createApiKey(input: { name: "second" }) { secret } }', { token: key });
    const prompt = `my key is ${key} and my secret is prompt-marker-8731`;
    const answer = 'generated-marker-5519 and more';
    simulator.enqueue({ text: answer });
    await graphQLCompletion(key, { messages: userMessage(prompt) });
    simulator.enqueue({ text: answer });
    await openaiClient(server, key).chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] });
    simulator.enqueue({ text: answer });
    await anthropicClient(server, key).messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: prompt }] });
    await gqlOk(server, `query AdminLooks { accounts(first: 5) { edges { node { id } } } }`, { token: server.adminToken });
    await eventually(() => (spans().filter((s) => s.name === 'settlement').length === 3 ? true : undefined), 'three settlements');

    const texts = spans().flatMap((s) => [s.name, ...Object.entries(s.attributes).flat(), ...s.events.flatMap((e) => [e.name, ...Object.entries(e.attributes ?? {}).flat()])]).map(String);
    expect(texts.length).toBeGreaterThan(50);
    for (const secret of [key, createApiKey.secret, server.adminToken, 'th-upstream-test-key', 'prompt-marker-8731', 'generated-marker-5519']) {
      expect(texts.filter((text) => text.includes(secret))).toEqual([]);
    }
    expect(texts.filter((text) => /th-[A-Za-z0-9]{6,}/.test(text))).toEqual([]);
  });

  it("continue the caller's trace when a request carries a W3C traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    await gqlOk(server, '{ models { id } }', { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    const request = await eventually(() => spans().find((s) => s.name === 'POST /graphql'), 'the request span');
    expect(request.spanContext().traceId).toBe(traceId);
    expect(request.parentSpanContext?.spanId).toBe(parentId);
    expect(namesOf(childrenOf(request))).toEqual(['query']);
  });
});

describe('tracing off', () => {
  it('builds nothing without an OTLP endpoint: no provider, so completions get the no-op tracer', async () => {
    const logger = createLogger({ logLevel: 'silent' });
    expect(openTracing(loadConfig({}).tracing, { logger })).toBeUndefined();
    const on = openTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing, { logger });
    expect(on?.tracer).toBeDefined();
    await on?.shutdown();
  });
});
