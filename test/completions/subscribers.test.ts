import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { completionFields, startCompletion, startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { collectSse, collectFrom } from '../helpers/subscriptions.js';
import type { TestServer } from '../helpers/server.js';
import { wsClient } from '../helpers/ws.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator({ EVENT_RETENTION_MS: '300' }));
});
afterAll(() => server.stop());

type Event = { completionStream: any };
const tokens = Array.from({ length: 12 }, (_, i) => `t${i} `);

async function subscribe(token: string, id: string, after?: number, stopAt?: (event: any) => boolean) {
  const client = wsClient(server, token);
  try {
    const { data, errors } = await collectFrom<Event>(client, streamQuery, { id, after }, (event, stop) => {
      if (stopAt?.(event.completionStream)) stop();
    });
    return { events: data.map((d) => d.completionStream), errors };
  } finally {
    await client.dispose();
  }
}

describe('subscribers', () => {
  it('attaching before, during and after the stream all receive the same events exactly once', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens, interTokenMs: 25 });
    const started = await startCompletion(server, key, {});
    const early = subscribe(key, started.id);
    await new Promise((r) => setTimeout(r, 120));
    const middle = subscribe(key, started.id);
    const first = await early;
    const second = await middle;
    const late = await subscribe(key, started.id);
    const shape = (events: any[]) => events.map((e) => [e.index, e.delta, e.done]);
    expect(first.events.map((e) => e.index)).toEqual(first.events.map((_, i) => i));
    expect(shape(second.events)).toEqual(shape(first.events));
    expect(shape(late.events)).toEqual(shape(first.events));
    expect(first.events.map((e) => e.delta ?? '').join('')).toBe(tokens.join(''));
  });

  it('reconnecting with after receives exactly the missing events', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens, interTokenMs: 20 });
    const started = await startCompletion(server, key, {});
    const cut = await subscribe(key, started.id, undefined, (e) => e.index === 3);
    expect(cut.events.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    const rest = await subscribe(key, started.id, 3);
    expect(rest.events[0].index).toBe(4);
    const all = [...cut.events, ...rest.events];
    expect(all.map((e) => e.index)).toEqual(all.map((_, i) => i));
    expect(all.map((e) => e.delta ?? '').join('')).toBe(tokens.join(''));
    expect(all.filter((e) => e.done)).toHaveLength(1);
  });

  it('get the same events replayed from Postgres once the live log has expired', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens, interTokenMs: 5 });
    const started = await startCompletion(server, key, {});
    const live = await subscribe(key, started.id);
    await new Promise((r) => setTimeout(r, 500));
    const replayed = await subscribe(key, started.id);
    expect(replayed.events.map((e) => [e.index, e.delta, e.outputTokens, e.cost, e.done])).toEqual(
      live.events.map((e) => [e.index, e.delta, e.outputTokens, e.cost, e.done]),
    );
    const tail = await subscribe(key, started.id, live.events.length - 3);
    expect(tail.events.map((e) => e.index)).toEqual(live.events.slice(-2).map((e) => e.index));
  });

  it("of another account are refused with FORBIDDEN", async () => {
    const owner = await fundedCustomer(server);
    const stranger = await fundedCustomer(server);
    simulator.enqueue({ tokens });
    const started = await startCompletion(server, owner.key, {});
    const { events, errors } = await subscribe(stranger.key, started.id);
    expect(events).toEqual([]);
    expect(errors[0]?.extensions?.code).toBe('FORBIDDEN');
    const query = await gql(server, 'query($id: ID!) { completion(id: $id) { id } }', { token: stranger.key, variables: { id: started.id } });
    expect(codeOf(query)).toBe('FORBIDDEN');
  });

  it('may be the admin, for any account', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens });
    const started = await startCompletion(server, key, {});
    const { events } = await subscribe(server.adminToken, started.id);
    expect(events.at(-1).done).toBe(true);
  });

  it('asking for an unknown completion get NOT_FOUND', async () => {
    const { key } = await fundedCustomer(server);
    const { errors } = await subscribe(key, '00000000-0000-4000-8000-000000000000');
    expect(errors[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('giving a negative after get BAD_USER_INPUT', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens });
    const started = await startCompletion(server, key, {});
    const { errors } = await subscribe(key, started.id, -5);
    expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('streamCompletion', () => {
  it('starts and streams in one operation over SSE', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ text: 'One operation is enough.' });
    const { data, errors } = await collectSse<{ streamCompletion: any }>(
      server,
      key,
      `subscription($input: CompletionInput!) { streamCompletion(input: $input) { completionId index delta cost done completion { ${completionFields} } } }`,
      { input: { model: 'claude-haiku-4-5', messages: userMessage('Say something') } },
    );
    expect(errors).toEqual([]);
    const events = data.map((d) => d.streamCompletion);
    expect(events.map((e) => e.delta ?? '').join('')).toBe('One operation is enough.');
    expect(events.at(-1).completion.status).toBe('SUCCEEDED');
    expect(new Set(events.map((e) => e.completionId)).size).toBe(1);
  });

  it('reports a bad input as BAD_USER_INPUT and starts nothing', async () => {
    const { key } = await fundedCustomer(server);
    const { data, errors } = await collectSse<{ streamCompletion: any }>(
      server,
      key,
      'subscription($input: CompletionInput!) { streamCompletion(input: $input) { index } }',
      { input: { model: 'claude-haiku-4-5', messages: [] } },
    );
    expect(data).toEqual([]);
    expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('tool calls', () => {
  it('are forwarded as deltas and stored assembled', async () => {
    const { key } = await fundedCustomer(server);
    const tool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
    const started = await startCompletion(server, key, {
      tools: [tool],
      toolChoice: { type: 'function', function: { name: 'get_weather' } },
    });
    const { events } = await subscribe(key, started.id);
    const final = events.at(-1).completion;
    expect(final.finishReason).toBe('tool_calls');
    expect(final.toolCalls).toHaveLength(1);
    expect(final.toolCalls[0].function.name).toBe('get_weather');
    expect(() => JSON.parse(final.toolCalls[0].function.arguments)).not.toThrow();
    const streamedArguments = events
      .flatMap((e) => e.toolCallDeltas ?? [])
      .map((d: any) => d.function?.arguments ?? '')
      .join('');
    expect(streamedArguments).toBe(final.toolCalls[0].function.arguments);
  });
});

describe('cancelCompletion', () => {
  it('aborts the upstream request, ends CANCELLED and charges only what was generated', async () => {
    const { key } = await fundedCustomer(server, '1');
    simulator.enqueue({ tokens: Array.from({ length: 200 }, () => 'word '), interTokenMs: 20 });
    const started = await startCompletion(server, key, {});
    const partial = await subscribe(key, started.id, undefined, (e) => e.index >= 2);
    expect(partial.events.length).toBeGreaterThan(0);
    const cancelled = (await gqlOk(server, `mutation($id: ID!) { cancelCompletion(id: $id) { ${completionFields} } }`, { token: key, variables: { id: started.id } })).cancelCompletion;
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.usage.estimated).toBe(true);
    expect(Number(cancelled.cost)).toBeGreaterThan(0);
    expect(Number(cancelled.cost)).toBeLessThan(Number(started.reserved));
    expect(cancelled.content.length).toBeLessThan('word '.length * 200);
    const record = simulator.requests.at(-1)!;
    expect(await record.finished).toBe('client-closed');
    const rest = await subscribe(key, started.id);
    expect(rest.events.at(-1).completion.status).toBe('CANCELLED');
    await expectLedgerInvariant(server);
  });

  it('returns a settled completion unchanged', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens });
    const started = await startCompletion(server, key, {});
    const done = await subscribe(key, started.id);
    const cancelled = (await gqlOk(server, 'mutation($id: ID!) { cancelCompletion(id: $id) { status cost } }', { token: key, variables: { id: started.id } })).cancelCompletion;
    expect(cancelled).toEqual({ status: 'SUCCEEDED', cost: done.events.at(-1).completion.cost });
  });

  it("of another account's completion is refused with FORBIDDEN", async () => {
    const owner = await fundedCustomer(server);
    const stranger = await fundedCustomer(server);
    simulator.enqueue({ tokens, interTokenMs: 20 });
    const started = await startCompletion(server, owner.key, {});
    const response = await gql(server, 'mutation($id: ID!) { cancelCompletion(id: $id) { status } }', { token: stranger.key, variables: { id: started.id } });
    expect(codeOf(response)).toBe('FORBIDDEN');
    const { events } = await subscribe(owner.key, started.id);
    expect(events.at(-1).completion.status).toBe('SUCCEEDED');
  });
});
