import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic, {
  APIError,
  AuthenticationError,
  BadRequestError,
  ContentTooLargeError,
  InternalServerError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { clearOfMinuteEnd } from '../../helpers/clock.js';
import { anthropicClient } from '../../helpers/anthropic-client.js';
import { postMessages } from '../../helpers/anthropic-sse.js';
import { startServerWithSimulator } from '../../helpers/completions.js';
import { createAccount, fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant, snapshotCounts } from '../../helpers/invariants.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
let key: string;
beforeAll(async () => {
  // No retries: a queued upstream fault fails its completion.
  ({ server, simulator } = await startServerWithSimulator({ MAX_COMPLETION_REQUEST_BYTES: String(64 * 1024), UPSTREAM_MAX_ATTEMPTS: '1' }));
  ({ key } = await fundedCustomer(server));
});
afterAll(() => server.stop());

const request: Anthropic.MessageCreateParamsNonStreaming = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] };

/** The error the SDK raises for a request, checked to have changed nothing in Postgres. */
async function failure(create: () => Promise<unknown>): Promise<APIError> {
  const before = await snapshotCounts(server);
  const error = await create().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the request failed').toBeInstanceOf(APIError);
  expect(await snapshotCounts(server), 'nothing was written').toEqual(before);
  return error as APIError;
}

async function limitedKey(limits: Record<string, unknown>, credits = '10') {
  const accountId = await createAccount(server);
  if (credits !== '0') {
    await gqlOk(server, 'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id } }', { token: server.adminToken, variables: { input: { accountId, amount: credits } } });
  }
  const data = await gqlOk(server, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
    token: server.adminToken,
    variables: { input: { accountId, name: 'limited', limits } },
  });
  return data.createApiKey.secret as string;
}

describe('errors in Anthropic shape', () => {
  it('answers 400 invalid_request_error naming the field as sent, and says not to retry', async () => {
    const error = await failure(() => anthropicClient(server, key).messages.create({ ...request, temperature: 2 } as any));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.type).toBe('invalid_request_error');
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'temperature: must be between 0 and 1, got 2' } });
    expect(error.headers?.get('x-should-retry')).toBe('false');
  });

  it("spells the domain's fields as Anthropic's request names them", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ max_tokens: 0 }, 'max_tokens: must be an integer from 1 to 64000'],
      [{ temperature: 0.5, top_p: 0.5 }, 'top_p: give temperature or top_p, not both'],
      [{ stop_sequences: ['a', 'b', 'c', 'd', 'e'] }, 'stop_sequences: at most 4 stop sequences'],
      [{ tools: [{ name: 'bad name!', input_schema: { type: 'object' } }] }, 'tools[0].name: a function name is'],
      [{ messages: [{ role: 'user', content: [{ type: 'text', text: 'ok' }, { type: 'text', text: '' }] }] }, 'messages[0].content[1]: a text part needs a non-empty "text"'],
      [
        { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x' }, { type: 'text', text: '' }] }] },
        'messages[2].content[1]: a text part needs a non-empty "text"',
      ],
      [{ system: [{ type: 'text', text: '' }] }, 'system[0]: a text part needs a non-empty "text"'],
    ];
    for (const [change, message] of cases) {
      const error = await failure(() => anthropicClient(server, key).messages.create({ ...request, ...change } as any));
      expect(error, JSON.stringify(change)).toBeInstanceOf(BadRequestError);
      expect((error.error as any).error.message, JSON.stringify(change)).toContain(message);
    }
  });

  it('answers 401 authentication_error for a wrong key and for none, with x-should-retry: false (Claude Code retries 401 otherwise)', async () => {
    const wrong = await failure(() => anthropicClient(server, 'th-not-a-real-key').messages.create(request));
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong.type).toBe('authentication_error');
    expect(wrong.headers?.get('x-should-retry')).toBe('false');
    const none = await postMessages(server, '', request);
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ type: 'authentication_error', message: expect.stringContaining('x-api-key') });
    expect(none.headers.get('x-should-retry')).toBe('false');
  });

  it('accepts the key as x-api-key and as a Bearer token', async () => {
    const viaHeader = await postMessages(server, key, request);
    expect(viaHeader.status).toBe(200);
    const viaBearer = await postMessages(server, '', request, { authorization: `Bearer ${key}` });
    expect(viaBearer.status).toBe(200);
  });

  it('answers 402 billing_error when the account cannot cover even the least max_tokens, saying what it needs', async () => {
    const poor = await fundedCustomer(server, '0.000001');
    const error = await failure(() => anthropicClient(server, poor.key).messages.create({ ...request, max_tokens: 4000 }));
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(error.error).toMatchObject({ error: { type: 'billing_error', details: { error_code: 'insufficient_credits' } } });
    expect(error.message).toMatch(/needs at least 0\.\d+ credits \(its prompt plus 1024 output tokens/);
    expect(error.headers?.get('x-should-retry')).toBe('false');
    await expectLedgerInvariant(server);
  });

  it('says what a request asking for fewer than 1024 tokens needs: its own worst case, as it is never lowered', async () => {
    const poor = await fundedCustomer(server, '0.000001');
    const error = await failure(() => anthropicClient(server, poor.key).messages.create({ ...request, max_tokens: 2 }));
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(error.message).toMatch(/needs 0\.\d+ credits \(prompt plus max_tokens/);
  });

  it("answers 402 billing_error when the key's spend limit cannot cover it", async () => {
    const limited = await limitedKey({ spendLimit: '0.000001' });
    const error = await failure(() => anthropicClient(server, limited).messages.create(request));
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(error.error).toMatchObject({ error: { type: 'billing_error', details: { error_code: 'enforced_spend_limit_reached' } } });
  });

  it('answers 403 permission_error to the admin token and to a key not allowed the model', async () => {
    const admin = await failure(() => anthropicClient(server, server.adminToken).messages.create(request));
    expect(admin).toBeInstanceOf(PermissionDeniedError);
    const restricted = await limitedKey({ allowedModels: ['claude-sonnet-4-6'] });
    const error = await failure(() => anthropicClient(server, restricted).messages.create(request));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.type).toBe('permission_error');
  });

  it('answers 404 not_found_error for an unknown model', async () => {
    const error = await failure(() => anthropicClient(server, key).messages.create({ ...request, model: 'claude-opus-5-5' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.type).toBe('not_found_error');
    expect(error.message).toContain('GET /v1/models lists them');
  });

  it('answers 413 request_too_large above MAX_COMPLETION_REQUEST_BYTES', async () => {
    const error = await failure(() => anthropicClient(server, key).messages.create({ ...request, messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }));
    expect(error).toBeInstanceOf(ContentTooLargeError);
    expect(error.type).toBe('request_too_large');
  });

  it('answers 429 rate_limit_error with retry-after when the key has started its completions per minute', async () => {
    await clearOfMinuteEnd();
    const limited = await limitedKey({ requestsPerMinute: 1 });
    await anthropicClient(server, limited).messages.create(request);
    const error = await failure(() => anthropicClient(server, limited).messages.create(request));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.type).toBe('rate_limit_error');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(error.headers?.get('x-should-retry')).toBeNull();
  });

  it('answers 429 rate_limit_error with the retry-after when the upstream is rate limited, and 502 api_error when it fails; nothing is charged', async () => {
    const { key: own } = await fundedCustomer(server);
    simulator.enqueue({ fault: 'http429', retryAfterSeconds: 7 });
    const limited = await anthropicClient(server, own).messages.create(request).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as APIError).type).toBe('rate_limit_error');
    expect((limited as APIError).headers?.get('retry-after')).toBe('7');
    expect((limited as APIError).headers?.get('x-should-retry')).toBeNull();
    simulator.enqueue({ fault: 'http500' });
    const failed = await anthropicClient(server, own).messages.create(request).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InternalServerError);
    expect((failed as APIError).status).toBe(502);
    expect((failed as APIError).headers?.get('x-should-retry')).toBeNull();
    for (const error of [limited, failed] as APIError[]) {
      const id = error.headers?.get('x-completion-id');
      const { rows } = await server.pg.query(`select status, cost::text, (select count(*)::int from ledger_entries where completion_id = $1) as entries from completions where id = $1`, [id]);
      expect(rows).toEqual([{ status: 'FAILED', cost: '0', entries: 0 }]);
    }
    await expectLedgerInvariant(server);
  });

  it('answers 400 invalid_request_error, which the SDK does not retry, when the upstream refuses the request as invalid', async () => {
    const { key: own } = await fundedCustomer(server);
    const calls = simulator.requests.length;
    // The simulator answers 400 to a directive it does not know, as an upstream to a conversation it will not take.
    const refused = await anthropicClient(server, own, { maxRetries: 2 })
      .messages.create({ ...request, messages: [{ role: 'user', content: 'Hello [sim:bogus]' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as APIError).type).toBe('invalid_request_error');
    expect((refused as APIError).message).toContain('The upstream refused the request (HTTP 400)');
    expect(simulator.requests.length - calls).toBe(1);
    const { rows } = await server.pg.query('select status, error_code, cost::text from completions where id = $1', [(refused as APIError).headers?.get('x-completion-id')]);
    expect(rows).toEqual([{ status: 'FAILED', error_code: 'UPSTREAM_REFUSED', cost: '0' }]);
  });

  it('answers 404 not_found_error for an unknown path and 405 for a wrong method, in Anthropic shape', async () => {
    const unknown = await fetch(`${server.url}/v1/messages/batches`, { method: 'POST', headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.type).toBe('not_found_error');
    const wrong = await fetch(`${server.url}/v1/messages`, { headers: { 'x-api-key': key } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});
