import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/simulator.js';
import type { ToolCallDelta, UpstreamChunk } from '../../src/domain/completions/upstream.js';
import { API_KEY, chatRequest, clientFor, collect, failureOf, neverAborted, simulatorPerTest, streamFrom, textOf } from './harness.js';

const holder = simulatorPerTest();

function stream(content = 'Hello', extra: Parameters<typeof chatRequest>[1] = {}, timeouts = {}) {
  return streamFrom(holder.current, content, extra, timeouts);
}

/** Joins tool_call deltas by index the way a consumer of OpenAI streams does. */
function assembleToolCalls(chunks: UpstreamChunk[]): { id: string; name: string; arguments: string }[] {
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const delta of chunks.flatMap((chunk): ToolCallDelta[] => chunk.toolCallDeltas ?? [])) {
    const call = (calls[delta.index] ??= { id: '', name: '', arguments: '' });
    call.id ||= delta.id ?? '';
    call.name += delta.function?.name ?? '';
    call.arguments += delta.function?.arguments ?? '';
  }
  return calls;
}

/** A one-off server for upstream behaviour the simulator does not offer. */
async function withServer(handler: Parameters<typeof createServer>[1], run: (baseUrl: string) => Promise<void>): Promise<void> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('upstream client: content', () => {
  it('accepts a server that ignores stream: true and answers one chat.completion object', async () => {
    const completion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Whole answer, héllo.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
    };
    await withServer(
      (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion)),
      async (baseUrl) => {
        const chunks = await collect(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        expect(textOf(chunks)).toBe('Whole answer, héllo.');
        expect(chunks.at(-1)).toMatchObject({ finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 4 } });
      },
    );
  });

  it('assembles the scripted text from the content deltas', async () => {
    holder.current.enqueue({ text: 'The quick brown fox jumps over the lazy dog.' });
    expect(textOf(await collect(stream()))).toBe('The quick brown fox jumps over the lazy dog.');
  });

  it('yields each scripted token as one content delta', async () => {
    holder.current.enqueue({ tokens: ['Hel', 'lo', ' wor', 'ld'] });
    const deltas = (await collect(stream())).flatMap((chunk) => (chunk.contentDelta === undefined ? [] : [chunk.contentDelta]));
    expect(deltas).toEqual(['Hel', 'lo', ' wor', 'ld']);
  });

  it('reports the usage the upstream sends after the finish_reason', async () => {
    holder.current.enqueue({ tokens: ['a', 'b', 'c'] });
    const chunks = await collect(stream('Hello'));
    const finishAt = chunks.findIndex((chunk) => chunk.finishReason === 'stop');
    const usageAt = chunks.findIndex((chunk) => chunk.usage !== undefined);
    expect(usageAt).toBeGreaterThan(finishAt);
    expect(chunks[usageAt]?.usage).toEqual({ promptTokens: Math.ceil(5 / 4) + 4, completionTokens: 3, cachedPromptTokens: 0, cacheWriteTokens: 0 });
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const chunks = await collect(stream('Hello', { maxTokens: 4 }));
    expect(chunks.filter((chunk) => chunk.contentDelta !== undefined)).toHaveLength(4);
    expect(chunks.find((chunk) => chunk.finishReason)?.finishReason).toBe('length');
    expect(chunks.find((chunk) => chunk.usage)?.usage?.completionTokens).toBe(4);
  });

  it('cuts the text before the first stop sequence and finishes with stop', async () => {
    holder.current.enqueue({ text: 'one two three END four five' });
    const chunks = await collect(stream('Hello', { stop: ['four', ' END'] }));
    expect(textOf(chunks)).toBe('one two three');
    expect(chunks.find((chunk) => chunk.finishReason)?.finishReason).toBe('stop');
  });

  it('streams parseable JSON for response_format json_object', async () => {
    const chunks = await collect(stream('Give me JSON', { responseFormat: { type: 'json_object' } }));
    expect(chunks.filter((chunk) => chunk.contentDelta).length).toBeGreaterThan(1);
    expect(JSON.parse(textOf(chunks))).toEqual({ answer: expect.stringContaining('Give me JSON') });
  });

  it('assembles tool_call deltas into a valid call when tool_choice is required', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer' } },
          },
        },
      },
    ];
    const chunks = await collect(stream('Weather in Paris?', { tools, toolChoice: 'required' }));
    const calls = assembleToolCalls(chunks);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ id: expect.stringMatching(/^call_/), name: 'get_weather' });
    expect(JSON.parse(calls[0]!.arguments)).toEqual({ city: 'Weather in Paris?', unit: 'celsius', days: 42 });
    expect(chunks.find((chunk) => chunk.finishReason)?.finishReason).toBe('tool_calls');
    expect(textOf(chunks)).toBe('');
  });

  it('calls the named function when tool_choice names one', async () => {
    const tools = ['first', 'second'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } }));
    const chunks = await collect(stream('Hi', { tools, toolChoice: { type: 'function', function: { name: 'second' } } }));
    expect(assembleToolCalls(chunks).map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([['second', {}]]);
  });

  it('sends every parameter under its upstream name, with stream and include_usage', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
    const toolCalls = [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }];
    await collect(
      clientFor(holder.current.baseUrl).streamChat(
        {
          model: 'anthropic/claude-haiku-4-5',
          maxTokens: 50,
          temperature: 0.5,
          stop: ['\n\n'],
          tools,
          toolChoice: 'auto',
          responseFormat: { type: 'text' },
          user: 'user-42',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: [{ type: 'text', text: 'Hi' }], name: 'ann' },
            { role: 'assistant', content: null, toolCalls },
            { role: 'tool', content: '{"ok":true}', toolCallId: 'call_1' },
          ],
        },
        neverAborted,
      ),
    );
    expect(holder.current.requests[0]?.body).toEqual({
      model: 'anthropic/claude-haiku-4-5',
      max_tokens: 50,
      temperature: 0.5,
      stop: ['\n\n'],
      tools,
      tool_choice: 'auto',
      response_format: { type: 'text' },
      user: 'user-42',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }], name: 'ann' },
        { role: 'assistant', content: null, tool_calls: toolCalls },
        { role: 'tool', content: '{"ok":true}', tool_call_id: 'call_1' },
      ],
    });
    expect(holder.current.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('sends top_p when given', async () => {
    await collect(stream('Hi', { topP: 0.9 }));
    expect(holder.current.requests[0]?.body).toMatchObject({ top_p: 0.9 });
  });
});

describe('upstream client: quirks of other servers', () => {
  it('finishes normally without usage when the upstream sends none', async () => {
    holder.current.enqueue({ text: 'no usage here', noUsage: true });
    const chunks = await collect(stream());
    expect(textOf(chunks)).toBe('no usage here');
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(chunks.at(-1)?.finishReason).toBe('stop');
  });

  it('yields content and finish_reason together when they share the last chunk', async () => {
    holder.current.enqueue({ tokens: ['a', 'b'], finishOnLastContent: true });
    const chunks = await collect(stream());
    expect(chunks.find((chunk) => chunk.finishReason)).toMatchObject({ contentDelta: 'b', finishReason: 'stop' });
    expect(textOf(chunks)).toBe('ab');
  });

  it('streams normally when chunks have no created field', async () => {
    holder.current.enqueue({ text: 'no created', omitCreated: true });
    const chunks = await collect(stream());
    expect(textOf(chunks)).toBe('no created');
    expect(chunks.some((chunk) => chunk.usage)).toBe(true);
  });
});

describe('upstream client: failures', () => {
  it('throws kind http with the status for an HTTP 500', async () => {
    holder.current.enqueue({ fault: 'http500' });
    const { error } = await failureOf(stream());
    expect(error).toMatchObject({ kind: 'http', status: 500 });
    expect(holder.current.requests).toHaveLength(1); // no retries
  });

  it('throws kind rate_limited with retryAfterSeconds for an HTTP 429', async () => {
    holder.current.enqueue({ fault: 'http429', retryAfterSeconds: 3 });
    const { error } = await failureOf(stream());
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterSeconds: 3 });
  });

  it('throws kind network when the connection is reset mid-stream, after the tokens sent before', async () => {
    holder.current.enqueue({ tokens: ['a', 'b', 'c', 'd'], fault: 'reset', afterTokens: 2 });
    const { error, chunks } = await failureOf(stream());
    expect(error.kind).toBe('network');
    expect(textOf(chunks)).toBe('ab');
  });

  it('throws kind network when nothing listens at the base URL', async () => {
    const baseUrl = holder.current.baseUrl;
    await holder.current.close();
    const { error } = await failureOf(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
    expect(error.kind).toBe('network');
    holder.current = await startSimulator(); // afterEach closes this one
  });

  it('throws kind malformed for a chunk that is not JSON', async () => {
    holder.current.enqueue({ tokens: ['a', 'b', 'c'], fault: 'malformed', afterTokens: 1 });
    const { error, chunks } = await failureOf(stream());
    expect(error.kind).toBe('malformed');
    expect(textOf(chunks)).toBe('a');
  });

  it('ends at [DONE] even when the upstream keeps the body open after it', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n');
        res.write('data: [DONE]\n\n');
      },
      async (baseUrl) => {
        const chunks = await collect(clientFor(baseUrl, { idleTimeoutMs: 200 }).streamChat(chatRequest('Hi'), neverAborted));
        expect(chunks).toEqual([{ contentDelta: 'hi', finishReason: 'stop' }]);
      },
    );
  });

  it('throws kind malformed when the stream ends without a finish_reason', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n');
      },
      async (baseUrl) => {
        const { error, chunks } = await failureOf(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        expect(error.kind).toBe('malformed');
        expect(textOf(chunks)).toBe('hi');
      },
    );
  });

  it('throws kind http for an error object sent inside the stream', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"error":{"message":"overloaded","type":"server_error"}}\n\n');
      },
      async (baseUrl) => {
        const { error } = await failureOf(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        expect(error.kind).toBe('http');
        expect(error.message).toContain('overloaded');
      },
    );
  });

  it('throws kind malformed for a chunk that is JSON but not an object', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: 42\n\n');
      },
      async (baseUrl) => {
        const { error } = await failureOf(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        expect(error.kind).toBe('malformed');
      },
    );
  });

  it('never puts the API key in an error message, even when the upstream echoes it', async () => {
    await withServer(
      (req, res) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `Invalid key: ${req.headers.authorization}`, type: 'auth', param: null, code: null } }));
      },
      async (baseUrl) => {
        const { error } = await failureOf(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        expect(error).toMatchObject({ kind: 'http', status: 401 });
        expect(error.message).not.toContain(API_KEY);
        expect(error.message).toContain('[redacted]');
      },
    );
  });
});

describe('upstream client: the request and error answers', () => {
  it('posts JSON with the key as bearer to the base URL, with or without its trailing slash', async () => {
    const seen: { url?: string; authorization?: string; type?: string; body: unknown }[] = [];
    await withServer(
      (req, res) => {
        let text = '';
        req.on('data', (part) => (text += part));
        req.on('end', () => {
          seen.push({ url: req.url, authorization: req.headers.authorization, type: req.headers['content-type'], body: JSON.parse(text) });
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end('data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
        });
      },
      async (baseUrl) => {
        await collect(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        await collect(clientFor(`${baseUrl}/`).streamChat(chatRequest('Hi'), neverAborted));
      },
    );
    expect(seen.map((s) => s.url)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${API_KEY}`, type: 'application/json', body: { stream: true, stream_options: { include_usage: true } } });
  });

  it('quotes the start of an error answer that is not JSON', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>Bad gateway from the load balancer</html>');
      },
      async (baseUrl) => {
        const { error } = await failureOf(clientFor(baseUrl).streamChat(chatRequest('Hi'), neverAborted));
        expect(error).toMatchObject({ kind: 'http', status: 502 });
        expect(error.message).toBe('The upstream answered HTTP 502: <html>Bad gateway from the load balancer</html>');
      },
    );
  });

  it('fails an answer that switches protocols (HTTP 101) at once, closing its socket', async () => {
    const server = createNetServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: chat\r\n\r\n'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closed = new Promise<void>((resolve) => server.on('connection', (socket) => socket.once('close', () => resolve())));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const { error } = await failureOf(clientFor(baseUrl, { firstByteTimeoutMs: 60_000 }).streamChat(chatRequest('Hi'), neverAborted));
      expect(error).toMatchObject({ kind: 'http', status: 101 });
      await closed;
    } finally {
      server.close();
    }
  });

  it('fails an error answer whose body never ends as soon as it read enough of it', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        const more = (): void => {
          if (!res.destroyed) res.write('x'.repeat(16 * 1024), () => setImmediate(more));
        };
        more();
      },
      async (baseUrl) => {
        // The first-byte deadline would end it too, but later and as a timeout.
        const { error } = await failureOf(clientFor(baseUrl, { firstByteTimeoutMs: 60_000 }).streamChat(chatRequest('Hi'), neverAborted));
        expect(error).toMatchObject({ kind: 'http', status: 500 });
        expect(error.message.length).toBeLessThan(400);
      },
    );
  });
});

describe('upstream client: cancel and timeouts', () => {
  it('throws kind aborted and closes the HTTP request when the signal aborts mid-stream', async () => {
    holder.current.setTiming({ interTokenMs: 20 });
    const controller = new AbortController();
    const chunks: UpstreamChunk[] = [];
    const failure = failureOf(
      (async function* () {
        for await (const chunk of clientFor(holder.current.baseUrl).streamChat(chatRequest('Hi'), controller.signal)) {
          chunks.push(chunk);
          if (chunks.length === 2) controller.abort();
          yield chunk;
        }
      })(),
    );
    const { error } = await failure;
    expect(error.kind).toBe('aborted');
    expect(await holder.current.requests[0]?.finished).toBe('client-closed');
    expect(holder.current.requests[0]?.closedByClient).toBe(true);
  });

  it('yields nothing more after the signal aborts, even chunks already received', async () => {
    holder.current.enqueue({ tokens: ['a', 'b', 'c', 'd'] });
    const controller = new AbortController();
    const seen: string[] = [];
    const { error } = await failureOf(
      (async function* () {
        for await (const chunk of clientFor(holder.current.baseUrl).streamChat(chatRequest('Hi'), controller.signal)) {
          if (chunk.contentDelta) seen.push(chunk.contentDelta);
          controller.abort();
          yield chunk;
        }
      })(),
    );
    expect(error.kind).toBe('aborted');
    expect(seen).toEqual(['a']);
  });

  it('throws kind aborted without calling the upstream when the signal is already aborted', async () => {
    const { error } = await failureOf(clientFor(holder.current.baseUrl).streamChat(chatRequest('Hi'), AbortSignal.abort()));
    expect(error.kind).toBe('aborted');
    expect(holder.current.requests).toHaveLength(0);
  });

  it('closes the HTTP request when the consumer stops reading early', async () => {
    holder.current.setTiming({ interTokenMs: 20 });
    for await (const chunk of stream()) {
      if (chunk.contentDelta) break;
    }
    expect(await holder.current.requests[0]?.finished).toBe('client-closed');
  });

  it('throws kind timeout when no output arrives within the first-byte timeout', async () => {
    holder.current.setTiming({ ttftMs: 1000 });
    const start = performance.now();
    const { error } = await failureOf(stream('Hi', {}, { firstByteTimeoutMs: 100, idleTimeoutMs: 1000 }));
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain('first-byte');
    expect(performance.now() - start).toBeLessThan(500);
    expect(await holder.current.requests[0]?.finished).toBe('client-closed');
  });

  it('throws kind timeout when the stream stalls longer than the idle timeout', async () => {
    holder.current.enqueue({ fault: 'stall', afterTokens: 2 });
    const { error, chunks } = await failureOf(stream('Hi', {}, { firstByteTimeoutMs: 1000, idleTimeoutMs: 100 }));
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain('idle');
    expect(chunks.filter((chunk) => chunk.contentDelta)).toHaveLength(2);
    expect(await holder.current.requests[0]?.finished).toBe('client-closed');
  });

  it('does not time out while chunks keep arriving within the idle timeout', async () => {
    holder.current.setTiming({ interTokenMs: 25 });
    holder.current.enqueue({ words: 8 });
    const chunks = await collect(stream('Hi', {}, { firstByteTimeoutMs: 60, idleTimeoutMs: 60 }));
    expect(chunks.filter((chunk) => chunk.contentDelta)).toHaveLength(8);
  });

  it('does not count the time the consumer spends on a chunk as upstream idleness', async () => {
    holder.current.enqueue({ tokens: ['a', 'b'] });
    const seen: string[] = [];
    for await (const chunk of stream('Hi', {}, { firstByteTimeoutMs: 60, idleTimeoutMs: 60 })) {
      if (chunk.contentDelta) seen.push(chunk.contentDelta);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).toEqual(['a', 'b']);
  });
});
