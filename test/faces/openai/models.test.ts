import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from 'openai';
import { fundedCustomer, setModelEnabled } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { openaiClient } from '../../helpers/openai-client.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
let key: string;
beforeAll(async () => {
  server = await startServer();
  ({ key } = await fundedCustomer(server));
});
afterAll(() => server.stop());

describe('GET /v1/models', () => {
  it('lists the models with the prices the GraphQL catalogue shows', async () => {
    const { data } = await openaiClient(server, key).models.list();
    const { models } = await gqlOk(server, '{ models { id inputPricePerMillion outputPricePerMillion cacheReadPricePerMillion cacheWritePricePerMillion } }');
    expect(data.map((m) => ({ id: m.id, pricing: (m as any).pricing }))).toEqual(
      models.map((m: any) => ({
        id: m.id,
        pricing: {
          input_per_million: m.inputPricePerMillion,
          output_per_million: m.outputPricePerMillion,
          cache_read_per_million: m.cacheReadPricePerMillion,
          cache_write_per_million: m.cacheWritePricePerMillion,
        },
      })),
    );
    expect(data.find((m) => m.id === 'anthropic/claude-haiku-4-5')).toMatchObject({
      object: 'model',
      owned_by: 'anthropic',
      aliases: ['claude-haiku-4-5'],
      pricing: { input_per_million: '1.00', output_per_million: '5.00', cache_read_per_million: '0.10', cache_write_per_million: '1.25' },
    });
  });

  it('needs no API key', async () => {
    const response = await fetch(`${server.url}/v1/models`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).data).toHaveLength(10);
  });

  it('leaves disabled models out, and answers 404 for them by id', async () => {
    const client = openaiClient(server, key);
    await setModelEnabled(server, 'claude-4-opus', false);
    try {
      const { data } = await client.models.list();
      expect(data.map((m) => m.id)).not.toContain('anthropic/claude-4-opus');
      const error = await client.models.retrieve('anthropic/claude-4-opus').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe('model_not_found');
    } finally {
      await setModelEnabled(server, 'claude-4-opus', true);
    }
  });
});

describe('GET /v1/models/{model}', () => {
  it('finds a model by its id or its alias', async () => {
    const client = openaiClient(server, key);
    expect((await client.models.retrieve('anthropic/claude-sonnet-4-6')).id).toBe('anthropic/claude-sonnet-4-6');
    expect(await client.models.retrieve('claude-sonnet-4-6')).toMatchObject({
      id: 'anthropic/claude-sonnet-4-6',
      pricing: { input_per_million: '3.00', output_per_million: '15.00', cache_read_per_million: '0.30', cache_write_per_million: '3.75' },
    });
  });
});
