import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIError, AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError, RateLimitError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { clearOfMinuteEnd } from '../../helpers/clock.js';
import { startServerWithSimulator } from '../../helpers/completions.js';
import { createAccount, fundedCustomer, grant } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant, snapshotCounts } from '../../helpers/invariants.js';
import { openaiClient } from '../../helpers/openai-client.js';
import type { TestServer } from '../../helpers/server.js';

let server: TestServer;
let key: string;
beforeAll(async () => {
  ({ server } = await startServerWithSimulator({ MAX_COMPLETION_REQUEST_BYTES: String(64 * 1024) }));
  ({ key } = await fundedCustomer(server));
});
afterAll(() => server.stop());

const request: ChatCompletionCreateParamsNonStreaming = { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Hello' }] };

/** The error the SDK raises for a request, and whether the request changed anything in Postgres. */
async function failure(create: () => Promise<unknown>) {
  const before = await snapshotCounts(server);
  const error = await create().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the request failed').toBeInstanceOf(APIError);
  expect(await snapshotCounts(server), 'nothing was written').toEqual(before);
  return error as APIError;
}

async function post(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe('REST errors in OpenAI shape', () => {
  it('answers 400 with the param for a temperature out of 0–1', async () => {
    const error = await failure(() => openaiClient(server, key).chat.completions.create({ ...request, temperature: 2 }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.error).toEqual({ message: 'temperature: must be between 0 and 1, got 2', type: 'invalid_request_error', param: 'temperature', code: null });
  });

  it('answers 400 for empty messages', async () => {
    const error = await failure(() => openaiClient(server, key).chat.completions.create({ ...request, messages: [] }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe('messages');
  });

  it('names fields as the request sent them, not as GraphQL does', async () => {
    const error = await failure(() =>
      openaiClient(server, key).chat.completions.create({ ...request, messages: [{ role: 'tool', content: 'sunny' } as any] }),
    );
    expect(error.param).toBe('messages[0].tool_call_id');
    expect(error.message).toContain('messages[0].tool_call_id: a tool message must name the tool_call_id it answers');
  });

  it('answers 400 for a value of the wrong type, naming where it is', async () => {
    const error = await failure(() =>
      openaiClient(server, key).chat.completions.create({ ...request, messages: [{ role: 'user', content: 'x', name: 7 } as any] }),
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.param).toBe('messages[0].name');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await post('{"model": ');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
  });

  it('answers 401 for a wrong key and for none', async () => {
    const error = await failure(() => openaiClient(server, 'th-not-a-real-key').chat.completions.create(request));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.code).toBe('invalid_api_key');
    const response = await post(JSON.stringify(request), { authorization: '' });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('missing_api_key');
  });

  it('answers 403 to the admin token, which has no account to charge', async () => {
    const error = await failure(() => openaiClient(server, server.adminToken).chat.completions.create(request));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error.message).toContain('use an API key');
  });

  it('answers 402 when the account cannot cover the worst case', async () => {
    const poor = await fundedCustomer(server, '0.000001');
    const error = await failure(() => openaiClient(server, poor.key).chat.completions.create(request));
    expect(error.status).toBe(402);
    expect(error.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_credits' });
    expect(error.message).toContain('lower max_tokens');
    await expectLedgerInvariant(server);
  });

  it('answers 404 model_not_found for an unknown model', async () => {
    const error = await failure(() => openaiClient(server, key).chat.completions.create({ ...request, model: 'gpt-4o' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    expect(error.message).toContain('GET /v1/models lists them');
  });

  it('answers 429 with retry-after when the key started its completions per minute already', async () => {
    await clearOfMinuteEnd();
    const accountId = await createAccount(server);
    const limited = await gqlOk(server, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
      token: server.adminToken,
      variables: { input: { accountId, name: 'one a minute', limits: { requestsPerMinute: 1 } } },
    });
    await grant(server, accountId, '1');
    const client = openaiClient(server, limited.createApiKey.secret);
    await client.models.list();
    await client.chat.completions.create(request);
    const error = await failure(() => client.chat.completions.create(request));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers 413 for a body over MAX_COMPLETION_REQUEST_BYTES, whether its length is declared or not', async () => {
    const big = JSON.stringify({ ...request, messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe('request_too_large');
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 10_240, (i + 1) * 10_240)));
        controller.enqueue(new TextEncoder().encode(big.slice(102_400)));
        controller.close();
      },
    });
    const streamed = await post(chunked);
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe('request_too_large');
  });

  it('answers 404 for an unknown path and 405 for a wrong method', async () => {
    const unknown = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('unknown_url');
    const wrong = await fetch(`${server.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${key}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});
