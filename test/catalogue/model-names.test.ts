import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namesToTry } from '../../src/domain/catalogue/model-names.js';
import { runToEnd, startServerWithSimulator } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { openaiClient } from '../helpers/openai-client.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let key: string;
beforeAll(async () => {
  ({ server } = await startServerWithSimulator());
  ({ key } = await fundedCustomer(server));
});
afterAll(() => server.stop());

const setAliases = (id: string, aliases: string[]) =>
  gql(server, 'mutation($input: UpdateModelInput!) { updateModel(input: $input) { id aliases } }', { token: server.adminToken, variables: { input: { id, aliases } } });

const modelOf = async (name: string) => (await gqlOk(server, 'query($id: String!) { model(id: $id) { id } }', { variables: { id: name } })).model?.id;

describe('model names', () => {
  const anthropicIds: [string, string][] = [
    ['claude-sonnet-4-5-20250929', 'anthropic/claude-sonnet-4-5'],
    ['claude-haiku-4-5-20251001', 'anthropic/claude-haiku-4-5'],
    ['anthropic/claude-opus-4-5-20251101', 'anthropic/claude-opus-4-5'],
    ['claude-3-5-haiku-20241022', 'anthropic/claude-3-5-haiku-latest'],
    ['claude-3-5-sonnet-20241022', 'anthropic/claude-3-5-sonnet-latest'],
    ['claude-sonnet-4-20250514', 'anthropic/claude-4-sonnet'],
    ['claude-opus-4-0', 'anthropic/claude-4-opus'],
    ['claude-3-5-haiku-latest', 'anthropic/claude-3-5-haiku-latest'],
  ];
  for (const [name, id] of anthropicIds) {
    it(`resolves Anthropic's ${name} to ${id}`, async () => {
      expect(await modelOf(name)).toBe(id);
    });
  }

  it('tries the name as given before the dated-id rule, so an exact alias wins', () => {
    expect(namesToTry('claude-sonnet-4-5-20250929')).toEqual([
      'claude-sonnet-4-5-20250929',
      'anthropic/claude-sonnet-4-5-20250929',
      'claude-sonnet-4-5',
      'anthropic/claude-sonnet-4-5',
      'claude-sonnet-4-5-latest',
      'anthropic/claude-sonnet-4-5-latest',
    ]);
  });

  it('does not take an unknown model for a known one', async () => {
    expect(await modelOf('claude-opus-5-5')).toBeUndefined();
    expect(await modelOf('claude-sonnet-4-6-x')).toBeUndefined();
  });

  it('runs completions on every face under a dated id', async () => {
    const overGraphQL = await runToEnd(server, key, { model: 'claude-sonnet-4-5-20250929' });
    expect(overGraphQL.model.id).toBe('anthropic/claude-sonnet-4-5');
    const overRest = await openaiClient(server, key).chat.completions.create({ model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: 'Hi' }] });
    expect(overRest.model).toBe('anthropic/claude-3-5-haiku-latest');
  });

  it("lets the admin replace a model's aliases, which every face uses at once", async () => {
    const changed = await setAliases('anthropic/claude-opus-4-7', ['claude-opus-4-7', 'claude-opus-5-5']);
    expect(changed.data?.updateModel).toEqual({ id: 'anthropic/claude-opus-4-7', aliases: ['claude-opus-4-7', 'claude-opus-5-5'] });
    try {
      expect(await modelOf('claude-opus-5-5')).toBe('anthropic/claude-opus-4-7');
      const answer = await openaiClient(server, key).chat.completions.create({ model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'Hi' }] });
      expect(answer.model).toBe('anthropic/claude-opus-4-7');
    } finally {
      await setAliases('anthropic/claude-opus-4-7', ['claude-opus-4-7']);
    }
  });

  const refused: [string, string[], string][] = [
    ['a name another model answers to', ['claude-sonnet-4-6'], 'already names anthropic/claude-sonnet-4-6'],
    ["another model's id", ['anthropic/claude-sonnet-4-6'], 'already names anthropic/claude-sonnet-4-6'],
    ['a repeated name', ['opus-a', 'opus-a'], 'listed twice'],
    ['spaces', ['my opus'], 'an alias is'],
    ['an empty name', [''], 'an alias is'],
  ];
  for (const [what, aliases, message] of refused) {
    it(`refuses an alias list with ${what}, and changes nothing`, async () => {
      const before = (await gqlOk(server, '{ model(id: "anthropic/claude-opus-4-7") { aliases } }')).model.aliases;
      const answer = await setAliases('anthropic/claude-opus-4-7', aliases);
      expect(codeOf(answer)).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toContain(message);
      expect(answer.errors?.[0]?.extensions?.field).toMatch(/^aliases\[\d\]$/);
      expect((await gqlOk(server, '{ model(id: "anthropic/claude-opus-4-7") { aliases } }')).model.aliases).toEqual(before);
    });
  }
});
