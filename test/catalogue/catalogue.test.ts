import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { seedCatalogue } from '../../src/domain/catalogue/seed.js';
import { followToEnd, startCompletion } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { snapshotCounts } from '../helpers/invariants.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const pricingTable: [string, string, string][] = [
  ['anthropic/claude-opus-4-7', '5', '25'],
  ['anthropic/claude-opus-4-6', '5', '25'],
  ['anthropic/claude-sonnet-4-6', '3', '15'],
  ['anthropic/claude-haiku-4-5', '1', '5'],
  ['anthropic/claude-sonnet-4-5', '3', '15'],
  ['anthropic/claude-opus-4-5', '5', '25'],
  ['anthropic/claude-4-sonnet', '3', '15'],
  ['anthropic/claude-4-opus', '15', '75'],
  ['anthropic/claude-3-5-sonnet-latest', '3', '15'],
  ['anthropic/claude-3-5-haiku-latest', '0.8', '4'],
];

const updateModel = `mutation($input: UpdateModelInput!) {
  updateModel(input: $input) { id inputPricePerMillion outputPricePerMillion enabled maxOutputTokens description }
}`;

describe('the model catalogue', () => {
  it('lists the ten models of the pricing table at their exact prices without a token', async () => {
    const { models } = await gqlOk<{ models: { id: string; inputPricePerMillion: string; outputPricePerMillion: string }[] }>(
      server,
      '{ models { id inputPricePerMillion outputPricePerMillion } }',
    );
    expect(models.map((m) => [m.id, Number(m.inputPricePerMillion), Number(m.outputPricePerMillion)])).toEqual(
      pricingTable.map(([id, input, output]) => [id, Number(input), Number(output)]),
    );
    expect(models.find((m) => m.id.endsWith('3-5-haiku-latest'))?.inputPricePerMillion).toBe('0.80');
  });

  it('is read from Postgres at most once for completions that start within its cache time', async () => {
    const { key } = await fundedCustomer(server);
    const from = server.statements.length;
    // Started together, so that all start within the cache time however slow the machine.
    const started = await Promise.all(Array.from({ length: 5 }, () => startCompletion(server, key, { maxTokens: 16 })));
    const reads = server.statements.slice(from).filter((sql) => /from "models"/.test(sql)).length;
    // Each run to its end, so that none settles during a later test's counts.
    for (const { id } of started) await followToEnd(server, key, id);
    expect(reads).toBeLessThanOrEqual(1);
  });

  it('recommends Sonnet 4.6 and only Sonnet 4.6', async () => {
    const { models } = await gqlOk<{ models: { id: string; recommended: boolean }[] }>(server, '{ models { id recommended } }');
    expect(models.filter((m) => m.recommended).map((m) => m.id)).toEqual(['anthropic/claude-sonnet-4-6']);
  });

  it('finds a model by its id and by its short alias', async () => {
    const byId = await gqlOk(server, '{ model(id: "anthropic/claude-haiku-4-5") { id name aliases } }');
    const byAlias = await gqlOk(server, '{ model(id: "claude-haiku-4-5") { id name aliases } }');
    expect(byId.model).toEqual({ id: 'anthropic/claude-haiku-4-5', name: 'Haiku 4.5', aliases: ['claude-haiku-4-5'] });
    expect(byAlias.model).toEqual(byId.model);
  });

  it('answers null for an unknown model', async () => {
    const data = await gqlOk(server, '{ model(id: "gpt-4o") { id } }');
    expect(data.model).toBeNull();
  });
});

describe('updateModel', () => {
  it('lets the admin change prices, limit and availability', async () => {
    const data = await gqlOk(server, updateModel, {
      token: server.adminToken,
      variables: {
        input: { id: 'claude-4-opus', inputPricePerMillion: '14.125', outputPricePerMillion: '70', enabled: false, maxOutputTokens: 4096, description: 'retiring' },
      },
    });
    expect(data.updateModel).toEqual({
      id: 'anthropic/claude-4-opus',
      inputPricePerMillion: '14.125',
      outputPricePerMillion: '70.00',
      enabled: false,
      maxOutputTokens: 4096,
      description: 'retiring',
    });
  });

  it('keeps an admin-changed price when the catalogue is seeded again', async () => {
    await gqlOk(server, updateModel, {
      token: server.adminToken,
      variables: { input: { id: 'anthropic/claude-opus-4-5', inputPricePerMillion: '4.50' } },
    });
    const database = await openDatabase({ kind: 'postgres', url: server.databaseUrl });
    await seedCatalogue(database.db);
    await database.close();
    const data = await gqlOk(server, '{ model(id: "claude-opus-4-5") { inputPricePerMillion } }');
    expect(data.model.inputPricePerMillion).toBe('4.50');
  });

  const badInputs: [string, Record<string, unknown>, string][] = [
    ['a negative price', { id: 'claude-sonnet-4-5', inputPricePerMillion: '-1' }, 'BAD_USER_INPUT'],
    ['a price with more than three decimals', { id: 'claude-sonnet-4-5', inputPricePerMillion: '3.0001' }, 'BAD_USER_INPUT'],
    ['a malformed price', { id: 'claude-sonnet-4-5', outputPricePerMillion: '15 USD' }, 'BAD_USER_INPUT'],
    ['a price given as an exponent', { id: 'claude-sonnet-4-5', outputPricePerMillion: '1e3' }, 'BAD_USER_INPUT'],
    ['a zero output limit', { id: 'claude-sonnet-4-5', maxOutputTokens: 0 }, 'BAD_USER_INPUT'],
    ['an unknown model', { id: 'claude-9', enabled: false }, 'NOT_FOUND'],
  ];
  for (const [what, input, code] of badInputs) {
    it(`refuses ${what} with ${code} and changes nothing`, async () => {
      const before = await snapshotCounts(server);
      const response = await gql(server, updateModel, { token: server.adminToken, variables: { input } });
      expect(codeOf(response)).toBe(code);
      expect(response.errors?.[0]?.message).toMatch(/\w{4,}/);
      expect(await snapshotCounts(server)).toEqual(before);
    });
  }

  it('refuses an API key with FORBIDDEN and anonymous callers with UNAUTHENTICATED', async () => {
    const { key } = await fundedCustomer(server);
    const before = await snapshotCounts(server);
    const input = { id: 'claude-sonnet-4-5', inputPricePerMillion: '0' };
    expect(codeOf(await gql(server, updateModel, { token: key, variables: { input } }))).toBe('FORBIDDEN');
    expect(codeOf(await gql(server, updateModel, { variables: { input } }))).toBe('UNAUTHENTICATED');
    expect(await snapshotCounts(server)).toEqual(before);
  });
});

describe("a model's fallback", () => {
  const setFallback = `mutation($input: UpdateModelInput!) { updateModel(input: $input) { id fallbackModel { id inputPricePerMillion } } }`;
  const admin = (input: Record<string, unknown>) => gql(server, setFallback, { token: server.adminToken, variables: { input } });

  it('is set by id or alias, shown on Model, and removed with null', async () => {
    const byAlias = await admin({ id: 'claude-sonnet-4-6', fallbackModel: 'claude-sonnet-4-5' });
    expect(byAlias.data?.updateModel).toEqual({ id: 'anthropic/claude-sonnet-4-6', fallbackModel: { id: 'anthropic/claude-sonnet-4-5', inputPricePerMillion: '3.00' } });
    const shown = await gqlOk(server, '{ model(id: "claude-sonnet-4-6") { fallbackModel { id } } }');
    expect(shown.model.fallbackModel).toEqual({ id: 'anthropic/claude-sonnet-4-5' });
    const cleared = await admin({ id: 'claude-sonnet-4-6', fallbackModel: null });
    expect(cleared.data?.updateModel.fallbackModel).toBeNull();
  });

  const refusals: [string, () => Promise<unknown>, Record<string, unknown>, RegExp][] = [
    ['the model itself', async () => undefined, { id: 'claude-haiku-4-5', fallbackModel: 'anthropic/claude-haiku-4-5' }, /its own fallback/],
    ['an unknown model', async () => undefined, { id: 'claude-haiku-4-5', fallbackModel: 'gpt-4o' }, /no model "gpt-4o"/],
    ['a disabled model', () => admin({ id: 'claude-3-5-sonnet-latest', enabled: false }), { id: 'claude-sonnet-4-5', fallbackModel: 'claude-3-5-sonnet-latest' }, /disabled/],
    ['a model priced higher', async () => undefined, { id: 'claude-haiku-4-5', fallbackModel: 'claude-sonnet-4-6' }, /inputPricePerMillion 3\.00 > 1\.00/],
    ['a model whose fallbacks lead back', () => admin({ id: 'claude-opus-4-6', fallbackModel: 'claude-opus-4-7' }), { id: 'claude-opus-4-7', fallbackModel: 'claude-opus-4-6' }, /cycle/],
  ];
  for (const [what, before, input, reason] of refusals) {
    it(`refuses ${what} with BAD_USER_INPUT on fallbackModel and changes nothing`, async () => {
      await before();
      const counts = await snapshotCounts(server);
      const stored = await server.pg.query('select id, fallback_model_id from models order by id');
      const response = await admin(input);
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0]?.extensions?.field).toBe('fallbackModel');
      expect(response.errors?.[0]?.message).toMatch(reason);
      expect(await snapshotCounts(server)).toEqual(counts);
      expect((await server.pg.query('select id, fallback_model_id from models order by id')).rows).toEqual(stored.rows);
    });
  }
});
