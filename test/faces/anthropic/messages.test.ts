import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Anthropic from '@anthropic-ai/sdk';
import { BadRequestError } from '@anthropic-ai/sdk';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { anthropicClient } from '../../helpers/anthropic-client.js';
import { completionFields, startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator());
});
afterAll(() => server.stop());

const model = 'claude-haiku-4-5';
const hello: Anthropic.MessageParam[] = [{ role: 'user', content: 'Hello over the Messages API' }];
const completionIdOf = (message: { id: string }) => message.id.replace(/^msg_/, '');
const lastUpstreamBody = () => simulator.requests.at(-1)!.body as any;

/** The completion and the account's charges as GraphQL shows them to the key. */
async function overGraphQL(key: string, id: string) {
  const data = await gqlOk(
    server,
    `query($id: ID!) {
      completion(id: $id) { ${completionFields} maxTokens }
      viewer { ledger(first: 10) { edges { node { amount kind completion { id } } } } }
    }`,
    { token: key, variables: { id } },
  );
  const charges = data.viewer.ledger.edges.map((e: any) => e.node).filter((n: any) => n.kind === 'CHARGE');
  return { completion: data.completion, charges };
}

const bash: Anthropic.Tool = {
  name: 'Bash',
  description: 'Runs a shell command',
  input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
};

describe('POST /v1/messages without streaming', () => {
  it('answers a Message whose text and usage are the stored completion, charged once on the ledger', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ tokens: ['Hello', ' from', ' Claude', '.'] });
    const message = await anthropicClient(server, key).messages.create({ model, max_tokens: 200, messages: hello });

    expect(message).toMatchObject({ type: 'message', role: 'assistant', model, stop_reason: 'end_turn', stop_sequence: null });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from Claude.' }]);
    const { completion, charges } = await overGraphQL(key, completionIdOf(message));
    expect(completion).toMatchObject({ status: 'SUCCEEDED', content: 'Hello from Claude.', model: { id: 'anthropic/claude-haiku-4-5' }, maxTokens: 200 });
    expect(message.usage).toMatchObject({ input_tokens: completion.usage.promptTokens, output_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(charges).toEqual([{ amount: `-${completion.cost}`, kind: 'CHARGE', completion: { id: completion.id } }]);
    await expectLedgerInvariant(server);
  });

  it('takes a body of several megabytes by default, as a long Claude Code session with screenshots sends', async () => {
    const { key } = await fundedCustomer(server, '20');
    const screenshot = { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'A'.repeat(3 * 1024 * 1024) } };
    const message = await anthropicClient(server, key).messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: [screenshot, { type: 'text', text: 'What is on my screen?' }] }] });
    expect(message.type).toBe('message');
  });

  it('takes a long tool session whose tool_result blocks make over a thousand messages upstream', async () => {
    const { key } = await fundedCustomer(server, '5');
    const rounds: Anthropic.MessageParam[] = Array.from({ length: 300 }, (_, round) => {
      const ids = [0, 1, 2].map((call) => `toolu_${round}_${call}`);
      return [
        { role: 'assistant' as const, content: ids.map((id) => ({ type: 'tool_use' as const, id, name: 'Bash', input: { command: 'ls' } })) },
        { role: 'user' as const, content: ids.map((id) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'a.txt' })) },
      ];
    }).flat();
    const tools: Anthropic.Tool[] = [{ name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }];
    const message = await anthropicClient(server, key).messages.create({ model, max_tokens: 50, tools, messages: [...hello, ...rounds, { role: 'assistant', content: 'Done.' }, ...hello] });
    expect(message.type).toBe('message');
  });

  it('takes tool output holding a NUL byte, as a Bash tool may return, and sends it upstream without it', async () => {
    const { key } = await fundedCustomer(server);
    const before = simulator.requests.length;
    const tools: Anthropic.Tool[] = [{ name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }];
    await anthropicClient(server, key).messages.create({
      model,
      max_tokens: 50,
      tools,
      messages: [
        ...hello,
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'find . -print0' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: './a\u0000./b\u0000' }] },
      ],
    });
    const sent = simulator.requests[before]!.body as { messages: { role: string; content: unknown }[] };
    expect(sent.messages.at(-1)).toMatchObject({ role: 'tool', content: './a./b' });
  });

  it('counts input_tokens without the cached reads and writes, which it reports apart, and charges them at the cache prices', async () => {
    const { key } = await fundedCustomer(server);
    // 400 characters: the simulator counts 104 prompt tokens.
    simulator.enqueue({ words: 3, cachedPromptTokens: 60, cacheWriteTokens: 20 });
    const message = await anthropicClient(server, key).messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'p'.repeat(400) }] });
    expect(message.usage).toMatchObject({ input_tokens: 24, output_tokens: 3, cache_read_input_tokens: 60, cache_creation_input_tokens: 20 });
    const { completion } = await overGraphQL(key, completionIdOf(message));
    expect(completion.usage).toMatchObject({ promptTokens: 104, cachedPromptTokens: 60, cacheWriteTokens: 20 });
    // Haiku 4.5 per token: input 1000, cache read 100, cache write 1250, output 5000 nanocredits.
    expect(completion.cost).toBe(String((24 * 1000 + 60 * 100 + 20 * 1250 + 3 * 5000) / 1e9));
  });

  it('translates system blocks with cache_control, sampling, stop sequences and metadata.user_id into the upstream request', async () => {
    const { key } = await fundedCustomer(server);
    await anthropicClient(server, key).messages.create({
      model,
      max_tokens: 300,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'A long shared preamble.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
      stop_sequences: ['END', 'STOP'],
      temperature: 0.5,
      metadata: { user_id: 'user-42' },
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(lastUpstreamBody()).toMatchObject({
      model: 'anthropic/claude-haiku-4-5',
      max_tokens: 300,
      temperature: 0.5,
      stop: ['END', 'STOP'],
      user: 'user-42',
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'You are terse.' },
            { type: 'text', text: 'A long shared preamble.', cache_control: { type: 'ephemeral' } },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      ],
    });
  });

  it('accepts and ignores what the upstream cannot do: thinking, top_k, context_management, output_config, beta headers and unknown fields', async () => {
    const { key } = await fundedCustomer(server);
    const message = await anthropicClient(server, key).beta.messages.create({
      model,
      max_tokens: 100,
      messages: hello,
      thinking: { type: 'enabled', budget_tokens: 50 },
      top_k: 5,
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      output_config: { effort: 'high' },
      service_tier: 'auto',
      some_future_field: { anything: true },
      betas: ['context-management-2025-06-27', 'interleaved-thinking-2025-05-14'],
    } as any);
    expect(message.stop_reason).toBe('end_turn');
    const sent = lastUpstreamBody();
    for (const field of ['thinking', 'top_k', 'context_management', 'output_config', 'service_tier', 'some_future_field']) expect(sent).not.toHaveProperty(field);
  });

  it('takes a system-role message inside messages as a system message in its place', async () => {
    const { key } = await fundedCustomer(server);
    await anthropicClient(server, key).messages.create({
      model,
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Say hello' },
        { role: 'system', content: [{ type: 'text', text: '# Environment', cache_control: { type: 'ephemeral' } }] },
      ] as any,
    });
    expect(lastUpstreamBody().messages).toEqual([
      { role: 'user', content: 'Say hello' },
      { role: 'system', content: [{ type: 'text', text: '# Environment', cache_control: { type: 'ephemeral' } }] },
    ]);
  });

  it('sends base64 and url images as image_url parts', async () => {
    const { key } = await fundedCustomer(server);
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    await anthropicClient(server, key).messages.create({
      model,
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'What are these?' },
          ],
        },
      ],
    });
    expect(lastUpstreamBody().messages[0].content).toEqual([
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      { type: 'text', text: 'What are these?' },
    ]);
  });

  it('resolves a dated model id and echoes the name the caller used', async () => {
    const { key } = await fundedCustomer(server);
    const message = await anthropicClient(server, key).messages.create({ model: 'claude-haiku-4-5-20251001', max_tokens: 50, messages: hello });
    expect(message.model).toBe('claude-haiku-4-5-20251001');
    expect((await overGraphQL(key, completionIdOf(message))).completion.model.id).toBe('anthropic/claude-haiku-4-5');
  });

  it('returns the same message, charged once, for a retry with the same Idempotency-Key', async () => {
    const { key } = await fundedCustomer(server);
    const client = anthropicClient(server, key);
    const headers = { 'Idempotency-Key': 'anthropic-retry-1' };
    const first = await client.messages.create({ model, max_tokens: 50, messages: hello }, { headers });
    const retry = await client.messages.create({ model, max_tokens: 50, messages: hello }, { headers });
    expect(retry).toEqual(first);
    expect((await overGraphQL(key, completionIdOf(first))).charges).toHaveLength(1);
  });

  it('refuses a retry with the same Idempotency-Key and another request with 400 naming the header, starting nothing', async () => {
    const { key } = await fundedCustomer(server);
    const client = anthropicClient(server, key);
    const headers = { 'Idempotency-Key': 'anthropic-reused-1' };
    await client.messages.create({ model, max_tokens: 50, messages: hello }, { headers });
    const reused = await client.messages.create({ model, max_tokens: 60, messages: hello }, { headers }).catch((error: unknown) => error);
    expect(reused).toBeInstanceOf(BadRequestError);
    expect((reused as BadRequestError).message).toMatch(/Idempotency-Key/);
    const { viewer } = await gqlOk(server, '{ viewer { completions(first: 5) { totalCount } } }', { token: key });
    expect(viewer.completions.totalCount).toBe(1);
  });

  it("answers Claude Code's /v1/messages?beta=true, with its beta headers, as /v1/messages", async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ text: 'Beta is fine.' });
    const response = await fetch(`${server.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27',
      },
      body: JSON.stringify({ model, max_tokens: 100, messages: hello }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).content).toEqual([{ type: 'text', text: 'Beta is fine.' }]);
  });

  it('says which completion it is and the max_tokens it runs with in headers', async () => {
    const { key } = await fundedCustomer(server);
    const { data, response } = await anthropicClient(server, key).messages.create({ model, max_tokens: 77, messages: hello }).withResponse();
    expect(response.headers.get('x-completion-id')).toBe(completionIdOf(data));
    expect(response.headers.get('x-tokenhub-max-tokens')).toBe('77');
    expect(response.headers.get('request-id')).toBeTruthy();
  });
});

describe('tool use', () => {
  it('answers tool_use blocks with parsed input and stop_reason tool_use, and translates the tool_result round trip', async () => {
    const { key } = await fundedCustomer(server);
    const client = anthropicClient(server, key);
    simulator.enqueue({ text: 'Let me check.', toolCalls: [{ name: 'Bash', arguments: { command: 'echo hi' } }] });
    const first = await client.messages.create({ model, max_tokens: 200, tools: [bash], tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'Say hi with the shell' }] });
    expect(first.stop_reason).toBe('tool_use');
    const [text, toolUse] = first.content as [Anthropic.TextBlock, Anthropic.ToolUseBlock];
    expect(text).toEqual({ type: 'text', text: 'Let me check.' });
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'Bash', input: { command: 'echo hi' } });
    expect(toolUse.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(lastUpstreamBody()).toMatchObject({
      tools: [{ type: 'function', function: { name: 'Bash', description: 'Runs a shell command', parameters: bash.input_schema } }],
      tool_choice: 'auto',
    });

    simulator.enqueue({ text: 'The shell said hi.' });
    const second = await client.messages.create({
      model,
      max_tokens: 200,
      tools: [bash],
      messages: [
        { role: 'user', content: 'Say hi with the shell' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'hi\n' }, { type: 'text', text: 'Go on.' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'The shell said hi.' }]);
    expect(lastUpstreamBody().messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }], tool_calls: [{ id: toolUse.id, type: 'function', function: { name: 'Bash', arguments: '{"command":"echo hi"}' } }] },
      { role: 'tool', tool_call_id: toolUse.id, content: 'hi\n' },
      { role: 'user', content: [{ type: 'text', text: 'Go on.' }] },
    ]);
    const { charges } = await overGraphQL(key, completionIdOf(second));
    expect(charges.map((c: any) => c.completion.id).sort()).toEqual([completionIdOf(first), completionIdOf(second)].sort());
    await expectLedgerInvariant(server);
  });

  it('maps tool_choice any, tool and none to required, the named function and none', async () => {
    const { key } = await fundedCustomer(server);
    const client = anthropicClient(server, key);
    const choices: [Anthropic.ToolChoice, unknown][] = [
      [{ type: 'any' }, 'required'],
      [{ type: 'tool', name: 'Bash' }, { type: 'function', function: { name: 'Bash' } }],
      [{ type: 'none' }, 'none'],
    ];
    for (const [choice, sent] of choices) {
      await client.messages.create({ model, max_tokens: 100, tools: [bash], tool_choice: choice, messages: hello });
      expect(lastUpstreamBody().tool_choice).toEqual(sent);
    }
  });

  it('turns tool results holding errors, images and tool references into tool messages, with the images in a user message after them', async () => {
    const { key } = await fundedCustomer(server);
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    await anthropicClient(server, key).messages.create({
      model,
      max_tokens: 100,
      tools: [{ ...bash, defer_loading: true } as Anthropic.Tool],
      messages: [
        { role: 'user', content: 'Look around' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_a', name: 'Bash', input: { command: 'touch /etc/x' } },
            { type: 'tool_use', id: 'toolu_b', name: 'Bash', input: { command: 'cat red.png' } },
            { type: 'tool_use', id: 'toolu_c', name: 'Bash', input: { command: 'load WebFetch' } },
            { type: 'tool_use', id: 'toolu_d', name: 'Bash', input: { command: 'true' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_a', content: 'permission denied', is_error: true },
            { type: 'tool_result', tool_use_id: 'toolu_b', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text: 'red.png' }] },
            { type: 'tool_result', tool_use_id: 'toolu_c', content: [{ type: 'tool_reference', tool_name: 'WebFetch' }] as any },
            { type: 'tool_result', tool_use_id: 'toolu_d', content: '', cache_control: { type: 'ephemeral' } },
          ],
        },
      ],
    });
    const sent = lastUpstreamBody();
    expect(sent.tools).toEqual([{ type: 'function', function: { name: 'Bash', description: 'Runs a shell command', parameters: bash.input_schema } }]);
    expect(sent.messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_a', content: 'Error: permission denied' },
      {
        role: 'tool',
        tool_call_id: 'toolu_b',
        content: [
          { type: 'text', text: '(an image, attached in the next user message)' },
          { type: 'text', text: 'red.png' },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_c', content: 'Tool WebFetch loaded.' },
      { role: 'tool', tool_call_id: 'toolu_d', content: [{ type: 'text', text: '(no output)', cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] },
    ]);
  });

  it('keeps tool arguments that are not JSON under _unparsed_arguments', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ toolCalls: [{ name: 'Bash', arguments: '{"command": "ec' }] });
    const message = await anthropicClient(server, key).messages.create({ model, max_tokens: 100, tools: [bash], messages: hello });
    expect(message.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'Bash', input: { _unparsed_arguments: '{"command": "ec' } }]);
  });
});
