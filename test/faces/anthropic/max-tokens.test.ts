import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentRequiredError } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import { worstCasePromptTokens } from '../../../src/domain/completions/token-estimates.js';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { anthropicClient } from '../../helpers/anthropic-client.js';
import { postMessages } from '../../helpers/anthropic-sse.js';
import { startServerWithSimulator } from '../../helpers/completions.js';
import { createAccount, fundedCustomer, grant } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import { openaiClient } from '../../helpers/openai-client.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '20000' }));
});
afterAll(() => server.stop());

// Haiku 4.5: 1,000 nanocredits per input token, 5,000 per output token; the
// prompt's worst case is the domain's (the request the face sends upstream).
const model = 'claude-haiku-4-5';
const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Hello' }];
const promptCost = BigInt(worstCasePromptTokens({ model: 'anthropic/claude-haiku-4-5', messages: [{ role: 'user', content: 'Hello' }], maxTokens: 1 })) * 1000n;
const credits = (units: bigint) => (Number(units) / 1e9).toFixed(9);
/** An account holding exactly what `maxTokens` output tokens of Haiku 4.5 (and the prompt) cost at most. */
const customerFor = (maxTokens: number) => fundedCustomer(server, credits(promptCost + BigInt(maxTokens) * 5000n));

// The SDK refuses a non-streaming request this large unless its timeout is set.
const longRequest = { timeout: 60_000 };

const completionOf = async (key: string, id: string) =>
  (await gqlOk(server, 'query($id: ID!) { completion(id: $id) { status maxTokens reserved cost finishReason } }', { token: key, variables: { id } })).completion;

describe("max_tokens fitted to the account's credits", () => {
  it('lowers max_tokens to what the balance can hold, sends that upstream and reports it', async () => {
    const { key } = await customerFor(9_997);
    const { data, response } = await anthropicClient(server, key).messages.create({ model, max_tokens: 64_000, messages }, longRequest).withResponse();
    expect(response.headers.get('x-tokenhub-max-tokens')).toBe('9997');
    expect((simulator.requests.at(-1)!.body as any).max_tokens).toBe(9_997);
    const completion = await completionOf(key, data.id.replace(/^msg_/, ''));
    expect(completion).toMatchObject({ status: 'SUCCEEDED', maxTokens: 9_997, reserved: credits(promptCost + 9_997n * 5000n).replace(/0+$/, '') });
    await expectLedgerInvariant(server);
  });

  it('keeps the max_tokens asked for when the balance covers it, in one reservation statement', async () => {
    const { key } = await customerFor(64_000);
    const reservations = () => server.statements.filter((s) => s.includes('with key_slot')).length;
    const before = reservations();
    const { response } = await anthropicClient(server, key).messages.create({ model, max_tokens: 64_000, messages }, longRequest).withResponse();
    expect(response.headers.get('x-tokenhub-max-tokens')).toBe('64000');
    expect(reservations() - before).toBe(1);
  });

  it('ends an answer that reaches the lowered limit with stop_reason max_tokens, charged exactly its usage', async () => {
    const { key } = await customerFor(1_500);
    simulator.enqueue({ words: 3_000 });
    const final = await anthropicClient(server, key).messages.stream({ model, max_tokens: 32_000, messages }).finalMessage();
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(1_500);
    const completion = await completionOf(key, final.id.replace(/^msg_/, ''));
    expect(completion).toMatchObject({ maxTokens: 1_500, finishReason: 'length' });
    expect(completion.cost).toBe(credits(BigInt(final.usage.input_tokens) * 1000n + 1_500n * 5000n).replace(/0+$/, ''));
    await expectLedgerInvariant(server);
  });

  it('runs with 1024 tokens when that is what the balance holds, and refuses 402 when it holds less', async () => {
    const enough = await customerFor(1_024);
    const ran = await postMessages(server, enough.key, { model, max_tokens: 64_000, messages });
    expect(ran.status).toBe(200);
    expect(ran.headers.get('x-tokenhub-max-tokens')).toBe('1024');
    const short = await customerFor(1_023);
    const error = await anthropicClient(server, short.key).messages.create({ model, max_tokens: 64_000, messages }, longRequest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect((error as PaymentRequiredError).message).toContain(`needs at least ${credits(promptCost + 1_024n * 5000n).replace(/0+$/, '')} credits`);
  });

  it('never lowers a request that asked for less than 1024 tokens', async () => {
    const { key } = await customerFor(500);
    const error = await anthropicClient(server, key).messages.create({ model, max_tokens: 600, messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentRequiredError);
  });

  it("fits to the key's spend limit as well as to the account", async () => {
    const accountId = await createAccount(server);
    await grant(server, accountId, '10');
    const limit = credits(promptCost + 2_000n * 5000n);
    const data = await gqlOk(server, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
      token: server.adminToken,
      variables: { input: { accountId, name: 'limited', limits: { spendLimit: limit } } },
    });
    const answer = await postMessages(server, data.createApiKey.secret, { model, max_tokens: 64_000, messages });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-tokenhub-max-tokens')).toBe('2000');
  });

  it('lets concurrent fitted starts hold no more than the balance together: the first takes it, the others are refused', async () => {
    const { key, accountId } = await customerFor(4_000);
    // Only one of them reaches the upstream, slowly, so that it holds its reservation meanwhile.
    simulator.enqueue({ words: 3, ttftMs: 1_500 });
    const answers = Promise.all(Array.from({ length: 4 }, () => postMessages(server, key, { model, max_tokens: 64_000, messages })));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const { rows } = await server.pg.query('select balance::text, reserved::text from accounts where id = $1', [accountId]);
    expect(BigInt(rows[0].reserved)).toBeLessThanOrEqual(BigInt(rows[0].balance));
    const statuses = (await answers).map((a) => a.status).sort();
    expect(statuses).toEqual([200, 402, 402, 402]);
    await expectLedgerInvariant(server);
  });

  it('leaves the other faces refusing what they cannot reserve exactly', async () => {
    const { key } = await customerFor(9_997);
    const error = await openaiClient(server, key).chat.completions.create({ model, max_tokens: 64_000, messages: [{ role: 'user', content: 'Hello' }] }).catch((e: any) => e);
    expect(error.status).toBe(402);
  });
});
