import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

// The default path of `npm start` on a fresh machine: embedded PGlite, no
// Postgres server. One file only, as a fresh PGlite takes seconds to create.
let app: App;
let url: string;
beforeAll(async () => {
  const config = loadConfig({ DATABASE_URL: 'memory://', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  app = await buildApp(config, { logger: createLogger(config) });
  url = await app.start();
});
afterAll(() => app.stop());

async function post(query: string, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: any; errors?: any[] };
}

describe('the embedded PGlite database', () => {
  it('is migrated and seeded with the ten models', async () => {
    const { data } = await post('{ models { id inputPricePerMillion } }');
    expect(data.models).toHaveLength(10);
  });

  it('serves an admin with a generated token through account, grant and key', async () => {
    expect(app.adminToken).toMatch(/^admin-[\w-]{20,}$/);
    const created = await post('mutation { createAccount(input: { name: "local" }) { id } }', app.adminToken);
    const id = created.data.createAccount.id;
    await post(`mutation { grantCredits(input: { accountId: "${id}", amount: "0.80" }) { id } }`, app.adminToken);
    const key = await post(`mutation { createApiKey(input: { accountId: "${id}", name: "k" }) { secret } }`, app.adminToken);
    const viewer = await post('{ viewer { balance } }', key.data.createApiKey.secret);
    expect(viewer.data.viewer.balance).toBe('0.80');
  });
});
