import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { runToEnd, startServerWithSimulator, userMessage } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import type { TestServer } from '../helpers/server.js';

// The upstream is not trusted: whatever it sends or fails to send, every
// completion ends, is charged for what it delivered and no more, and the
// server goes on serving.

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

const units = (money: string) => BigInt(money.replace('.', '').padEnd(money.indexOf('.') + 9, '0'));
// Haiku 4.5: 1.00 input, 5.00 output per million tokens.
const costAtHaiku = (prompt: number, completion: number) => BigInt(prompt) * 1000n + BigInt(completion) * 5000n;

describe('an upstream that never stops', () => {
  it('is cut at maxTokens: its request closed, the completion SUCCEEDED for length and charged for maxTokens', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ endless: true, interTokenMs: 1 });
    const before = simulator.requests.length;
    const final = await runToEnd(server, key, { maxTokens: 20 });
    expect(final).toMatchObject({ status: 'SUCCEEDED', error: null, finishReason: 'length', usage: { completionTokens: 20, estimated: true } });
    expect(final.content.split('more').length - 1).toBe(20);
    expect(units(final.cost)).toBe(costAtHaiku(final.usage.promptTokens, 20));
    expect(await simulator.requests[before]!.finished).toBe('client-closed');
    await expectLedgerInvariant(server);
  });

  it('is cut at maxTokens when it packs the output into few huge chunks', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: Array.from({ length: 50 }, () => 'x'.repeat(64 * 1024)) });
    const final = await runToEnd(server, key, { maxTokens: 20 });
    expect(final).toMatchObject({ status: 'SUCCEEDED', finishReason: 'length' });
    // At least 16 bytes a token: 20 tokens hold at most 320 bytes of output.
    expect(final.content.length).toBeLessThanOrEqual(320);
  });

  it('is cut when it outlives MAX_COMPLETION_DURATION_MS, charged for what it sent', async () => {
    const short = await startServerWithSimulator({ MAX_COMPLETION_DURATION_MS: '700' });
    try {
      const { key } = await fundedCustomer(short.server, '5');
      short.simulator.enqueue({ endless: true, interTokenMs: 50 });
      const final = await runToEnd(short.server, key, { maxTokens: 8000 });
      expect(final).toMatchObject({ status: 'SUCCEEDED', finishReason: 'length', usage: { estimated: true } });
      expect(units(final.cost)).toBeGreaterThan(0n);
      await expectLedgerInvariant(short.server);
    } finally {
      await short.server.stop();
    }
  });
});

describe('a stream that broke after its end', () => {
  it('delivered finish_reason and usage and then reset before [DONE]: SUCCEEDED and charged from the usage', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: ['all ', 'of ', 'it'], breakBeforeDone: true });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', content: 'all of it', finishReason: 'stop', usage: { completionTokens: 3, estimated: false } });
    expect(units(final.cost)).toBe(costAtHaiku(final.usage.promptTokens, 3));
  });
});

describe('hostile chunks', () => {
  it('a tool-call delta with index 50,000,000 fails the completion UPSTREAM_MALFORMED at once, charging nothing', async () => {
    const { key } = await fundedCustomer(server, '5');
    const chunk = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ index: 50_000_000, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: null }] };
    simulator.enqueue({ tokens: ['a'], rawChunks: [JSON.stringify(chunk)] });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_MALFORMED' } });
    // The server still answers another account at once.
    const other = await fundedCustomer(server, '1');
    expect((await gqlOk(server, '{ viewer { id } }', { token: other.key })).viewer.id).toBe(other.accountId);
  });

  it('content that is not a string fails the completion UPSTREAM_MALFORMED, charging nothing', async () => {
    const { key } = await fundedCustomer(server, '5');
    const chunk = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: { text: 'sneaky' } }, finish_reason: null }] };
    simulator.enqueue({ tokens: ['a'], rawChunks: [JSON.stringify(chunk)] });
    expect(await runToEnd(server, key, {})).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_MALFORMED' } });
  });

  it('an event of several megabytes without a line end fails the completion UPSTREAM_MALFORMED', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: ['a'], rawChunks: [`"${'y'.repeat(3 * 1024 * 1024)}`] });
    expect(await runToEnd(server, key, {})).toMatchObject({ status: 'FAILED', cost: '0.00', error: { code: 'UPSTREAM_MALFORMED' } });
  });

  it('text holding U+0000 is stored without it: the completion settles SUCCEEDED and charged', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: ['nul\u0000', 'here'] });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', content: 'nulhere' });
    expect(units(final.cost)).toBeGreaterThan(0n);
    await expectLedgerInvariant(server);
  });

  it('tool-call arguments holding U+0000 are stored without it', async () => {
    const { key } = await fundedCustomer(server, '5');
    const call = (args: string, first: boolean) =>
      JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...(first ? { id: 'call_1', type: 'function' } : {}), function: { ...(first ? { name: 'f' } : {}), arguments: args } }] }, finish_reason: null }] });
    simulator.enqueue({ tokens: [], rawChunks: [call('{"a":"\u0000', true), call('b"}', false)], finishReason: 'tool_calls' });
    const final = await runToEnd(server, key, { messages: userMessage('call f') });
    expect(final.status).toBe('SUCCEEDED');
    expect(final.toolCalls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":"b"}' } }]);
  });
});

const chunkWith = (fields: Record<string, unknown>) => JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', ...fields });
const toolDelta = (calls: unknown[]) => chunkWith({ choices: [{ index: 0, delta: { tool_calls: calls }, finish_reason: null }] });

describe('output that tries to pass unbounded or uncharged', () => {
  it('a flood of tool-call deltas carrying nothing but ids is cut at maxTokens, the call keeping its first id', async () => {
    const { key } = await fundedCustomer(server, '5');
    const flood = Array.from({ length: 500 }, () => toolDelta([{ index: 0, id: 'i'.repeat(200) }]));
    simulator.enqueue({ tokens: [], rawChunks: [toolDelta([{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }]), ...flood], finishReason: 'tool_calls' });
    const final = await runToEnd(server, key, { maxTokens: 5, messages: userMessage('call f') });
    expect(final).toMatchObject({ status: 'SUCCEEDED', finishReason: 'length', toolCalls: [{ id: 'call_1', function: { name: 'f', arguments: '{}' } }] });
  });

  it('an honest upstream that repeats the call id on every delta is neither cut nor charged for the ids', async () => {
    const { key } = await fundedCustomer(server, '5');
    const id = 'call_abcdefghijklmnopqrstuvwx';
    const args = '{"city": "Paris, France", "unit": "celsius", "days": 3}'.match(/.{1,3}/g)!;
    simulator.enqueue({
      tokens: [],
      finishReason: 'tool_calls',
      rawChunks: [toolDelta([{ index: 0, id, type: 'function', function: { name: 'weather', arguments: '' } }]), ...args.map((a) => toolDelta([{ index: 0, id, function: { arguments: a } }]))],
      usage: { prompt_tokens: 20, completion_tokens: args.length + 1, total_tokens: 20 + args.length + 1 },
    });
    const final = await runToEnd(server, key, { maxTokens: args.length + 5, messages: userMessage('weather?') });
    expect(final).toMatchObject({ status: 'SUCCEEDED', finishReason: 'tool_calls', usage: { completionTokens: args.length + 1, estimated: false } });
    expect(final.toolCalls).toEqual([{ id, type: 'function', function: { name: 'weather', arguments: args.join('') } }]);
  });

  it('usage of zero tokens for output it delivered is raised to what was surely sent, marked estimated', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: ['Hello', ' world'], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
    const final = await runToEnd(server, key, { messages: userMessage('x'.repeat(64)) });
    // Two chunks of output: at least two tokens; 64 bytes of prompt: at least four.
    expect(final).toMatchObject({ status: 'SUCCEEDED', usage: { promptTokens: 4, completionTokens: 2, estimated: true } });
    expect(units(final.cost)).toBe(costAtHaiku(4, 2));
  });

  it('of two usage reports, one of the prompt and one of the output, both counts are charged', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({
      tokens: ['Hello', ' world', '!'],
      rawChunks: [chunkWith({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101 } })],
      usage: { prompt_tokens: 0, completion_tokens: 3, total_tokens: 3 },
    });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', usage: { promptTokens: 100, completionTokens: 3, estimated: false } });
    expect(units(final.cost)).toBe(costAtHaiku(100, 3));
  });

  it('of two usage reports with different cache counts, the cache counts of the larger prompt are charged', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({
      tokens: ['Hello'],
      rawChunks: [chunkWith({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_tokens_details: { cached_tokens: 90 } } })],
      usage: { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, cache_creation_input_tokens: 90 },
    });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', usage: { promptTokens: 100, completionTokens: 5, cachedPromptTokens: 0, cacheWriteTokens: 90, estimated: false } });
    // Haiku 4.5 per token: input 1000, cache write 1250, output 5000 nanocredits.
    expect(units(final.cost)).toBe(10n * 1000n + 90n * 1250n + 5n * 5000n);
  });

  it('a later usage report smaller than an earlier one does not lower the bill', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({
      tokens: ['Hello'],
      rawChunks: [chunkWith({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } })],
      usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 },
    });
    const final = await runToEnd(server, key, {});
    expect(final).toMatchObject({ status: 'SUCCEEDED', usage: { promptTokens: 100, completionTokens: 20, estimated: false } });
    expect(units(final.cost)).toBe(costAtHaiku(100, 20));
  });

  it('without usage, output cut at maxTokens is estimated at maxTokens, never more', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ words: 100, noUsage: true });
    const final = await runToEnd(server, key, { maxTokens: 5 });
    expect(final).toMatchObject({ status: 'SUCCEEDED', usage: { completionTokens: 5, estimated: true } });
    expect(units(final.cost)).toBeLessThanOrEqual(costAtHaiku(final.usage.promptTokens, 5));
  });

  it('one chunk past maxTokens delivers its start, what the charge of maxTokens pays for by the estimate', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: ['word '.repeat(400)], noUsage: true });
    const final = await runToEnd(server, key, { maxTokens: 50 });
    expect(final).toMatchObject({ status: 'SUCCEEDED', finishReason: 'length', usage: { completionTokens: 50, estimated: true } });
    // The estimate's 4 bytes a token: 50 tokens are 200 bytes.
    expect(final.content).toBe('word '.repeat(40));
    expect(units(final.cost)).toBe(costAtHaiku(final.usage.promptTokens, 50));
  });
});
