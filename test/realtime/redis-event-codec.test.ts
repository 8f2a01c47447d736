import { describe, expect, it } from 'vitest';
import type { Completion } from '../../src/domain/completions/completion-record.js';
import type { CompletionEvent } from '../../src/domain/completions/completion-event.js';
import { decodeEvent, encodeEvent } from '../../src/realtime/event-codec.js';

const settled: Completion = {
  id: '0b6f3c7e-3f5a-4f0e-9a3e-7c1d2b4a5e60',
  accountId: '6a1f0f1e-2b3c-4d5e-8f70-1a2b3c4d5e6f',
  apiKeyId: null,
  modelId: 'anthropic/claude-haiku-4-5',
  status: 'SUCCEEDED',
  requestFingerprint: null,
  request: { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1024 },
  inputPricePerMillion: 1_000_000_000n,
  outputPricePerMillion: 5_000_000_000n,
  cacheReadPricePerMillion: 100_000_000n,
  cacheWritePricePerMillion: 1_250_000_000n,
  // Beyond 2^53: a number would round it.
  reserved: 9_007_199_254_740_993n,
  content: 'Hello, wörld 👋',
  toolCalls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
  eventLog: { deltas: [5, 9], toolCalls: { 1: [{ index: 0 }] } },
  finishReason: 'stop',
  promptTokens: 12,
  completionTokens: 2,
  cachedPromptTokens: 8,
  cacheWriteTokens: 0,
  usageEstimated: false,
  cost: 22_000n,
  answeredModelId: 'anthropic/claude-haiku-4-5',
  errorCode: null,
  errorMessage: null,
  errorRetryAfterSeconds: null,
  idempotencyKey: 'retry-1',
  instanceId: 'instance-a',
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
  firstTokenAt: new Date('2026-01-02T03:04:06.001Z'),
  finishedAt: null,
};

describe('event codec', () => {
  it('round-trips a terminal event with its settled completion exactly: bigints, dates, nulls and JSON columns', () => {
    const event: CompletionEvent = {
      completionId: settled.id,
      index: 2,
      delta: '',
      toolCallDeltas: null,
      outputTokens: 2,
      cost: 22_000n,
      done: true,
      completion: settled,
    };
    const decoded = decodeEvent(encodeEvent(event));
    expect(decoded).toStrictEqual(event);
    expect(typeof decoded.completion?.reserved).toBe('bigint');
    expect(decoded.completion?.createdAt).toBeInstanceOf(Date);
  });

  it('round-trips bigint and date fields the row carries beyond its columns, and leaves look-alike JSON input alone', () => {
    // The service sends the row merged with its settlement, whose charge is a bigint.
    const completion = {
      ...settled,
      request: { messages: [{ role: 'user', content: '2026-01-02T03:04:05.678Z' }], tools: [{ reserved: '12' }] },
      charge: 22_000n,
      settledAt: new Date('2026-01-02T03:04:07.000Z'),
    } as Completion;
    const event: CompletionEvent = { completionId: settled.id, index: 0, delta: '', toolCallDeltas: null, outputTokens: 0, cost: 0n, done: true, completion };
    expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
  });

  it('round-trips a running event with text and tool-call deltas', () => {
    const event: CompletionEvent = {
      completionId: settled.id,
      index: 0,
      delta: 'Hel"lo\n\u2028',
      toolCallDeltas: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q' } }],
      outputTokens: 3,
      cost: 12_345_678_901_234_567_890n,
      done: false,
      completion: null,
    };
    expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
  });
});
