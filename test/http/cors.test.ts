import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';

// Cross-origin access to /graphql and /v1, decided in one place for every
// face (src/http/cors.ts): only the origins of CORS_ORIGINS, never with
// credentials, and no CORS header at all when it is unset.

const app = 'https://app.example.com';
const other = 'https://evil.example.net';

let listed: TestServer;
let unset: TestServer;
let anyOrigin: TestServer;
beforeAll(async () => {
  [listed, unset, anyOrigin] = await Promise.all([
    startServer({ CORS_ORIGINS: `${app}, https://admin.example.com:8443` }),
    startServer(),
    startServer({ CORS_ORIGINS: '*' }),
  ]);
});
afterAll(() => Promise.all([listed, unset, anyOrigin].map((server) => server?.stop())));

function preflight(server: TestServer, path: string, origin: string, method = 'POST', headers = 'authorization, content-type') {
  return fetch(`${server.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });
}

const corsHeaders = (response: Response) => [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

/** One answer of each face, as a page on `origin` would ask for it. */
async function answersOfEveryFace(server: TestServer, origin: string): Promise<Record<string, Response>> {
  const { key } = await fundedCustomer(server);
  const json = { origin, 'content-type': 'application/json' };
  const [graphql, openai, anthropicModels, anthropicError] = await Promise.all([
    fetch(server.graphqlUrl, { method: 'POST', headers: json, body: JSON.stringify({ query: '{ models { id } }' }) }),
    fetch(`${server.url}/v1/models`, { headers: { origin, authorization: `Bearer ${key}` } }),
    fetch(`${server.url}/v1/models`, { headers: { origin, 'x-api-key': key, 'anthropic-version': '2023-06-01' } }),
    fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { ...json, 'x-api-key': key }, body: '{}' }),
  ]);
  return { graphql, openai, anthropicModels, anthropicError };
}

describe('with CORS_ORIGINS listing origins', () => {
  it('answers a preflight to /v1/chat/completions from a listed origin with 204, the methods, headers and max-age it needs', async () => {
    const response = await preflight(listed, '/v1/chat/completions', app, 'POST', 'authorization, content-type, idempotency-key, x-stainless-os, x-stainless-retry-count');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(app);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
    const allowed = response.headers.get('access-control-allow-headers')?.split(', ');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'x-api-key', 'anthropic-version', 'anthropic-beta', 'x-request-id', 'x-stainless-os', 'x-stainless-retry-count']));
    expect(response.headers.get('access-control-max-age')).toBe('7200');
    expect(response.headers.get('vary')).toMatch(/Origin/);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it("answers a preflight to /graphql with PUT and DELETE for graphql-sse's single connection, and the CSRF and stream-token headers", async () => {
    const response = await preflight(listed, '/graphql', 'https://admin.example.com:8443', 'PUT', 'x-graphql-event-stream-token, x-graphql-yoga-csrf');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example.com:8443');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, DELETE');
    expect(response.headers.get('access-control-allow-headers')?.split(', ')).toEqual(expect.arrayContaining(['x-graphql-event-stream-token', 'x-graphql-yoga-csrf']));
  });

  it("gives a listed origin Access-Control-Allow-Origin, Vary: Origin and the readable headers on every face's answers, never credentials", async () => {
    for (const [face, response] of Object.entries(await answersOfEveryFace(listed, app))) {
      expect.soft(response.headers.get('access-control-allow-origin'), face).toBe(app);
      expect.soft(response.headers.get('vary'), face).toMatch(/Origin/);
      expect.soft(response.headers.get('access-control-expose-headers'), face).toMatch(/x-request-id.*retry-after.*x-ratelimit-limit.*x-ratelimit-remaining.*x-ratelimit-reset/);
      expect.soft(response.headers.get('access-control-allow-credentials'), face).toBeNull();
    }
  });

  it('gives an origin it does not list no CORS header, and refuses its preflight with 403', async () => {
    for (const [face, response] of Object.entries(await answersOfEveryFace(listed, other))) {
      expect.soft(corsHeaders(response), face).toEqual([]);
    }
    for (const path of ['/graphql', '/v1/chat/completions', '/v1/messages']) {
      const response = await preflight(listed, path, other);
      expect.soft(response.status, path).toBe(403);
      expect.soft(corsHeaders(response), path).toEqual([]);
    }
  });

  it('still refuses a text/plain GraphQL post from a listed origin as cross-site request forgery', async () => {
    const response = await fetch(listed.graphqlUrl, { method: 'POST', headers: { origin: app, 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ models { id } }' }) });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('adds nothing to the paths outside /graphql and /v1', async () => {
    const response = await fetch(`${listed.url}/health`, { headers: { origin: app } });
    expect(corsHeaders(response)).toEqual([]);
  });
});

describe('without CORS_ORIGINS', () => {
  it('sends no CORS header on any face, and refuses every preflight with 403', async () => {
    for (const [face, response] of Object.entries(await answersOfEveryFace(unset, app))) {
      expect.soft(corsHeaders(response), face).toEqual([]);
    }
    for (const path of ['/graphql', '/v1/chat/completions', '/v1/models']) {
      const response = await preflight(unset, path, app);
      expect.soft(response.status, path).toBe(403);
      expect.soft(corsHeaders(response), path).toEqual([]);
    }
  });
});

describe('with CORS_ORIGINS=*', () => {
  it('allows any origin as *, without credentials, on every face and in preflights', async () => {
    for (const [face, response] of Object.entries(await answersOfEveryFace(anyOrigin, other))) {
      expect.soft(response.headers.get('access-control-allow-origin'), face).toBe('*');
      expect.soft(response.headers.get('access-control-allow-credentials'), face).toBeNull();
    }
    const response = await preflight(anyOrigin, '/v1/messages', other, 'POST', 'x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/anthropic-dangerous-direct-browser-access/);
  });
});

describe('CORS_ORIGINS', () => {
  it('takes exact origins and refuses paths, patterns and * mixed with origins', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://App.example.com,http://localhost:5173' }).corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/' })).toThrow(/not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(/not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.com' })).toThrow(/not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: '*, https://app.example.com' })).toThrow(/cannot be combined/);
  });
});
