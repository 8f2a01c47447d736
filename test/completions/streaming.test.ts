import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import { startCompletion, startServerWithSimulator, streamQuery } from '../helpers/completions.js';
import { collectSse, collectFrom } from '../helpers/subscriptions.js';
import type { TestServer } from '../helpers/server.js';
import { wsClient, wsRequest } from '../helpers/ws.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

type Event = { completionStream: any };

function expectWellFormed(events: any[]) {
  expect(events.map((e) => e.index)).toEqual(events.map((_, i) => events[0].index + i));
  expect(events.filter((e) => e.done)).toHaveLength(1);
  expect(events.at(-1).done).toBe(true);
}

describe('completionStream over graphql-ws', () => {
  it('delivers deltas that assemble to exactly the upstream text, then one terminal event', async () => {
    const { key } = await fundedCustomer(server);
    const tokens = ['Hel', 'lo', ', ', 'wörld', ' 👋', '!'];
    simulator.setTiming({ ttftMs: 20, interTokenMs: 5 });
    simulator.enqueue({ tokens });
    const started = await startCompletion(server, key, {});
    expect(started.status).toBe('PENDING');
    const client = wsClient(server, key);
    const { data, errors } = await collectFrom<Event>(client, streamQuery, { id: started.id });
    await client.dispose();
    simulator.setTiming({ ttftMs: 0, interTokenMs: 0 });
    expect(errors).toEqual([]);
    const events = data.map((d) => d.completionStream);
    expectWellFormed(events);
    expect(events[0].index).toBe(0);
    expect(events.map((e) => e.delta ?? '').join('')).toBe(tokens.join(''));
    const final = events.at(-1).completion;
    expect(final).toMatchObject({ status: 'SUCCEEDED', content: tokens.join(''), finishReason: 'stop' });
    expect(final.usage).toMatchObject({ completionTokens: tokens.length, estimated: false });
    expect(events.at(-1).cost).toBe(final.cost);
    await expectLedgerInvariant(server);
  });
});

describe('completionStream over SSE', () => {
  it('delivers the same events to a graphql-sse client', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ text: 'Server-sent events work too.' });
    const started = await startCompletion(server, key, {});
    const { data, errors } = await collectSse<Event>(server, key, streamQuery, { id: started.id });
    expect(errors).toEqual([]);
    const events = data.map((d) => d.completionStream);
    expectWellFormed(events);
    expect(events.map((e) => e.delta ?? '').join('')).toBe(events.at(-1).completion.content);
    expect(events.at(-1).completion.content.length).toBeGreaterThan(10);
  });
});

describe('completion', () => {
  it('shows STREAMING and the text so far while tokens arrive', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['one ', 'two ', 'three ', 'four'], interTokenMs: 150 });
    const started = await startCompletion(server, key, {});
    const client = wsClient(server, key);
    let seen: any;
    await collectFrom<Event>(client, streamQuery, { id: started.id }, async (event, stop) => {
      if (event.completionStream.index === 1 && !seen) {
        seen = (await gqlOk(server, `query($id: ID!) { completion(id: $id) { status content } }`, { token: key, variables: { id: started.id } })).completion;
        stop();
      }
    });
    await client.dispose();
    expect(seen.status).toBe('STREAMING');
    expect(seen.content).toBe('one two ');
  });
});

describe('startCompletion over graphql-ws', () => {
  it('runs as a mutation on the socket, like over HTTP', async () => {
    const { key } = await fundedCustomer(server);
    const client = wsClient(server, key);
    try {
      const result = await wsRequest(client, `mutation($input: CompletionInput!) { startCompletion(input: $input) { id status } }`, {
        input: { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'over the socket' }] },
      });
      expect(result.errors).toBeUndefined();
      expect(result.data?.startCompletion.status).toBe('PENDING');
    } finally {
      await client.dispose();
    }
  });
});
