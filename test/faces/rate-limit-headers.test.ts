import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessRateLimiter } from '../../src/realtime/in-process-rate-limiter.js';
import { RedisRateLimiter } from '../../src/realtime/redis-rate-limiter.js';
import { clearOfMinuteEnd } from '../helpers/clock.js';
import { startServerWithSimulator } from '../helpers/completions.js';
import { createAccount, fundedCustomer, grant } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { deleteKeys, redisUrl, testKeyPrefix } from '../helpers/redis.js';
import type { TestServer } from '../helpers/server.js';

// A key with requestsPerMinute learns where it stands from every REST
// answer that starts a completion: the generic x-ratelimit-limit,
// -remaining and -reset (seconds), and each face's own names.

let server: TestServer;
let redisServer: TestServer;
const prefix = testKeyPrefix();
beforeAll(async () => {
  [{ server }, { server: redisServer }] = await Promise.all([
    startServerWithSimulator({ SIMULATOR_TTFT_MS: '0' }),
    startServerWithSimulator({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), redisServer?.stop()]);
  await deleteKeys(prefix);
});

async function keyWithRate(target: TestServer, requestsPerMinute: number): Promise<string> {
  await clearOfMinuteEnd();
  const accountId = await createAccount(target);
  await grant(target, accountId, '10');
  const data = await gqlOk<{ createApiKey: { secret: string } }>(target, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
    token: target.adminToken,
    variables: { input: { accountId, name: 'limited', limits: { requestsPerMinute } } },
  });
  return data.createApiKey.secret;
}

const chat = (target: TestServer, key: string, stream = false) =>
  fetch(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, stream }),
  });

const message = (target: TestServer, key: string, stream = false) =>
  fetch(`${target.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, stream }),
  });

function generic(response: Response) {
  return {
    limit: response.headers.get('x-ratelimit-limit'),
    remaining: response.headers.get('x-ratelimit-remaining'),
    reset: Number(response.headers.get('x-ratelimit-reset')),
  };
}

describe('POST /v1/chat/completions', () => {
  it('tells a key with requestsPerMinute its limit, the starts left and the seconds until its window resets', async () => {
    const key = await keyWithRate(server, 3);
    const first = await chat(server, key);
    expect(first.status).toBe(200);
    expect(generic(first)).toMatchObject({ limit: '3', remaining: '2' });
    expect(generic(first).reset).toBeGreaterThanOrEqual(1);
    expect(generic(first).reset).toBeLessThanOrEqual(60);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d{1,2}s$/);
    await first.text();
    const streamed = await chat(server, key, true);
    expect(generic(streamed)).toMatchObject({ limit: '3', remaining: '1' });
    await streamed.text();
  });

  it('sends the same headers on the 429 past the limit, with remaining 0 and reset equal to retry-after', async () => {
    const key = await keyWithRate(server, 1);
    await (await chat(server, key)).text();
    const refused = await chat(server, key);
    expect(refused.status).toBe(429);
    expect(generic(refused)).toMatchObject({ limit: '1', remaining: '0' });
    expect(refused.headers.get('x-ratelimit-reset')).toBe(refused.headers.get('retry-after'));
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('sends none to a key without requestsPerMinute', async () => {
    const { key } = await fundedCustomer(server);
    const response = await chat(server, key);
    await response.text();
    expect([...response.headers.keys()].filter((name) => name.includes('ratelimit'))).toEqual([]);
  });
});

describe('POST /v1/messages', () => {
  it("tells a key with requestsPerMinute where it stands, also under Anthropic's names, streamed or not", async () => {
    const key = await keyWithRate(server, 2);
    const first = await message(server, key);
    expect(first.status).toBe(200);
    expect(generic(first)).toMatchObject({ limit: '2', remaining: '1' });
    expect(first.headers.get('anthropic-ratelimit-requests-limit')).toBe('2');
    expect(first.headers.get('anthropic-ratelimit-requests-remaining')).toBe('1');
    const reset = Date.parse(first.headers.get('anthropic-ratelimit-requests-reset') ?? '');
    expect(reset - Date.now()).toBeGreaterThan(-1000);
    expect(reset - Date.now()).toBeLessThanOrEqual(60_000);
    await first.text();
    const streamed = await message(server, key, true);
    expect(generic(streamed)).toMatchObject({ limit: '2', remaining: '0' });
    await streamed.text();
    const refused = await message(server, key);
    expect(refused.status).toBe(429);
    expect(generic(refused)).toMatchObject({ limit: '2', remaining: '0' });
    expect(refused.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset')).toBe(refused.headers.get('retry-after'));
  });
});

describe('with REDIS_URL', () => {
  it('reports the window that every instance shares, which resets on the clock minute', async () => {
    const key = await keyWithRate(redisServer, 2);
    const first = await chat(redisServer, key);
    await first.text();
    expect(generic(first)).toMatchObject({ limit: '2', remaining: '1' });
    const secondsToMinute = Math.ceil((60_000 - (Date.now() % 60_000)) / 1000);
    expect(Math.abs(generic(first).reset - secondsToMinute)).toBeLessThanOrEqual(1);
  });
});

describe('both rate limiters', () => {
  it('return the limit, the starts left after each hit and when the window resets', async () => {
    const redis = new Redis(redisUrl);
    try {
      for (const limiter of [new InProcessRateLimiter(), new RedisRateLimiter(redis, prefix)]) {
        await clearOfMinuteEnd();
        const before = Date.now();
        const hits = [await limiter.hit('key-a', 2), await limiter.hit('key-a', 2), await limiter.hit('key-a', 2)];
        expect(hits.map(({ allowed, limit, remaining }) => ({ allowed, limit, remaining }))).toEqual([
          { allowed: true, limit: 2, remaining: 1 },
          { allowed: true, limit: 2, remaining: 0 },
          { allowed: false, limit: 2, remaining: 0 },
        ]);
        const resetsIn = hits[0]!.resetsAt.getTime() - before;
        expect(resetsIn).toBeGreaterThan(0);
        expect(resetsIn).toBeLessThanOrEqual(60_000);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('give back at most the limit of refused hits in a window', async () => {
    const redis = new Redis(redisUrl);
    try {
      for (const limiter of [new InProcessRateLimiter(), new RedisRateLimiter(redis, prefix)]) {
        await clearOfMinuteEnd();
        for (let i = 0; i < 2; i++) await limiter.undo('key-d', await limiter.hit('key-d', 2));
        // Two given back: the next two hits are within the limit, and those are not given back.
        for (let i = 0; i < 2; i++) await limiter.undo('key-d', await limiter.hit('key-d', 2));
        expect((await limiter.hit('key-d', 2)).allowed).toBe(false);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('give back an undone hit in its own window only, and never below zero', async () => {
    const redis = new Redis(redisUrl);
    try {
      for (const limiter of [new InProcessRateLimiter(), new RedisRateLimiter(redis, prefix)]) {
        await clearOfMinuteEnd();
        const first = await limiter.hit('key-b', 1);
        await limiter.undo('key-b', first);
        expect((await limiter.hit('key-b', 1)).allowed).toBe(true);
        // A window that has ended is not touched, and an empty one stays at zero.
        await limiter.undo('key-b', { ...first, resetsAt: new Date(first.resetsAt.getTime() - 60_000) });
        expect((await limiter.hit('key-b', 1)).allowed).toBe(false);
        await limiter.undo('key-c', first);
        expect((await limiter.hit('key-c', 1)).remaining).toBe(0);
      }
    } finally {
      redis.disconnect();
    }
  });
});
