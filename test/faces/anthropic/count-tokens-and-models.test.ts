import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { anthropicClient } from '../../helpers/anthropic-client.js';
import { fundedCustomer, setModelEnabled } from '../../helpers/fixtures.js';
import { snapshotCounts } from '../../helpers/invariants.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
let key: string;
beforeAll(async () => {
  server = await startServer();
  ({ key } = await fundedCustomer(server));
});
afterAll(() => server.stop());

describe('POST /v1/messages/count_tokens', () => {
  it("answers the domain's prompt estimate and starts, reserves and charges nothing", async () => {
    const before = await snapshotCounts(server);
    const counted = await anthropicClient(server, key).messages.countTokens({
      model: 'claude-sonnet-4-6',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'x'.repeat(400) }],
    });
    // ceil((9 + 400 bytes) / 4) + 8 per message (the system prompt is one).
    expect(counted).toEqual({ input_tokens: Math.ceil(409 / 4) + 16 });
    expect(await snapshotCounts(server)).toEqual(before);
  });

  it('counts tools and images as a completion would', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const plain = await anthropicClient(server, key).messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi' }] });
    const withImage = await anthropicClient(server, key).messages.countTokens({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text: 'Hi' }] }],
      tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
    });
    expect(withImage.input_tokens - plain.input_tokens).toBeGreaterThanOrEqual(1_600);
  });

  it('validates like a message and needs a key', async () => {
    const invalid = await anthropicClient(server, key).messages.countTokens({ model: 'claude-sonnet-4-6', messages: [] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(BadRequestError);
    const unknown = await anthropicClient(server, key).messages.countTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    const anonymous = await fetch(`${server.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).error.type).toBe('authentication_error');
  });
});

describe('GET /v1/models with anthropic-version', () => {
  it("lists the enabled models by Anthropic's ids in Anthropic's shape", async () => {
    const page = await anthropicClient(server, key).models.list();
    expect(page.data).toHaveLength(10);
    expect(page.data[2]).toEqual({ type: 'model', id: 'claude-sonnet-4-6', display_name: 'Sonnet 4.6', created_at: expect.any(String), max_tokens: 64_000 });
    expect(Number.isNaN(Date.parse(page.data[2]!.created_at))).toBe(false);
    expect(page.has_more).toBe(false);
  });

  it("pages with limit, after_id and before_id, and the SDK's auto-pagination ends", async () => {
    const client = anthropicClient(server, key);
    const first = await client.models.list({ limit: 4 });
    expect(first.data.map((m) => m.id)).toEqual(['claude-opus-4-7', 'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5']);
    expect(first).toMatchObject({ has_more: true, first_id: 'claude-opus-4-7', last_id: 'claude-haiku-4-5' });
    const seen: string[] = [];
    for await (const model of client.models.list({ limit: 3 })) seen.push(model.id);
    expect(seen).toHaveLength(10);
    const before = await client.models.list({ before_id: 'claude-haiku-4-5', limit: 2 });
    expect(before.data.map((m) => m.id)).toEqual(['claude-opus-4-6', 'claude-sonnet-4-6']);
    const bad = await client.models.list({ limit: 0 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
  });

  it('retrieves a model by any name the catalogue knows, and answers 404 for a disabled one', async () => {
    const client = anthropicClient(server, key);
    expect((await client.models.retrieve('claude-sonnet-4-5-20250929')).id).toBe('claude-sonnet-4-5');
    await setModelEnabled(server, 'claude-4-opus', false);
    try {
      expect((await client.models.list()).data.map((m) => m.id)).not.toContain('claude-4-opus');
      expect(await client.models.retrieve('claude-4-opus').catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    } finally {
      await setModelEnabled(server, 'claude-4-opus', true);
    }
  });

  it('needs no key, refuses a bad one, and keeps the OpenAI shape without anthropic-version', async () => {
    const anonymous = await fetch(`${server.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } });
    expect(((await anonymous.json()) as any).data[0].type).toBe('model');
    expect(await anthropicClient(server, 'th-wrong').models.list().catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);
    const openai = await fetch(`${server.url}/v1/models`);
    expect(((await openai.json()) as any)).toMatchObject({ object: 'list', data: expect.arrayContaining([expect.objectContaining({ object: 'model', id: 'anthropic/claude-sonnet-4-6' })]) });
  });
});
