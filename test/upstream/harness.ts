import { createUpstreamClient } from '../../src/upstream/client.js';
import { UpstreamError } from '../../src/domain/completions/upstream.js';
import { afterEach, beforeEach } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/simulator.js';
import type { UpstreamChunk, UpstreamClient, UpstreamRequest } from '../../src/domain/completions/upstream.js';

export const API_KEY = 'th-test-secret-key';

export function clientFor(
  baseUrl: string,
  timeouts: { firstByteTimeoutMs?: number; idleTimeoutMs?: number } = {},
): UpstreamClient {
  return createUpstreamClient({
    baseUrl,
    apiKey: API_KEY,
    firstByteTimeoutMs: timeouts.firstByteTimeoutMs ?? 2000,
    idleTimeoutMs: timeouts.idleTimeoutMs ?? 2000,
  });
}

export function chatRequest(content: string, extra: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { model: 'anthropic/claude-sonnet-4-6', maxTokens: 1024, messages: [{ role: 'user', content }], ...extra };
}

export async function collect(stream: AsyncIterable<UpstreamChunk>): Promise<UpstreamChunk[]> {
  const chunks: UpstreamChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

export function textOf(chunks: UpstreamChunk[]): string {
  return chunks.map((chunk) => chunk.contentDelta ?? '').join('');
}

/** Runs the stream to its end and returns the UpstreamError it threw, with the chunks seen before. */
export async function failureOf(stream: AsyncIterable<UpstreamChunk>): Promise<{ error: UpstreamError; chunks: UpstreamChunk[] }> {
  const chunks: UpstreamChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    if (error instanceof UpstreamError) return { error, chunks };
    throw error;
  }
  throw new Error('expected the stream to fail');
}

/** A raw POST to /chat/completions, for tests about the exact bytes on the wire. */
export function post(simulator: Simulator, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${simulator.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer th-anything', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The `data:` payloads of an SSE body, in order (`[DONE]` included as is). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event !== '')
    .map((event) => {
      if (!event.startsWith('data: ')) throw new Error(`not an SSE data event: ${event}`);
      return event.slice('data: '.length);
    });
}

export interface WireChunk {
  id: string;
  object: string;
  created?: number;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string; tool_calls?: unknown[] }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** Streams `body` (stream: true is added) and returns the parsed chunks and whether [DONE] ended them. */
export async function rawStream(simulator: Simulator, body: Record<string, unknown>): Promise<{ chunks: WireChunk[]; done: boolean }> {
  const response = await post(simulator, { ...body, stream: true });
  const data = sseData(await response.text());
  const done = data.at(-1) === '[DONE]';
  return { chunks: (done ? data.slice(0, -1) : data).map((line) => JSON.parse(line) as WireChunk), done };
}

export const USER_HELLO = [{ role: 'user', content: 'Hello there' }];

/** A fresh simulator for every test of the file; read `.current` inside a test. */
export function simulatorPerTest(): { current: Simulator } {
  const holder = {} as { current: Simulator };
  beforeEach(async () => {
    holder.current = await startSimulator();
  });
  afterEach(async () => {
    await holder.current.close();
  });
  return holder;
}

export const neverAborted = new AbortController().signal;

/** One streamed chat against the simulator, with the test client. */
export function streamFrom(
  simulator: Simulator,
  content: string,
  extra: Partial<UpstreamRequest> = {},
  timeouts: Parameters<typeof clientFor>[1] = {},
): AsyncIterable<UpstreamChunk> {
  return clientFor(simulator.baseUrl, timeouts).streamChat(chatRequest(content, extra), neverAborted);
}
