import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { findAccount } from '../src/domain/accounts.js';
import { fundedCustomer, grant } from './helpers/fixtures.js';
import { collectWs } from './helpers/subscriptions.js';
import { startServer, type TestServer } from './helpers/server.js';
import { wsClient } from './helpers/ws.js';

// The race needs a grant that commits after the subscription read the
// account and before it could listen; wrapping findAccount puts one exactly there.
vi.mock(import('../src/domain/accounts.js'), async (importOriginal) => {
  const actual = await importOriginal();
  return { ...actual, findAccount: vi.fn(actual.findAccount) };
});

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

it('subscription balance pushes a grant committed right after it read the account', async () => {
  const { key, accountId } = await fundedCustomer(server, '1');
  const read = vi.mocked(findAccount);
  const readAccount = read.getMockImplementation()!;
  let granted: string | undefined;
  read.mockImplementationOnce(async (db, id) => {
    const account = await readAccount(db, id);
    granted = (await grant(server, accountId, '0.5')).balanceAfter;
    return account;
  });
  const client = wsClient(server, key);
  const seen: string[] = [];
  const following = collectWs<{ balance: { balance: string } }>(client, 'subscription { balance { balance } }', {}, (event, stop) => {
    seen.push(event.balance.balance);
    if (event.balance.balance === granted) stop();
  });
  await Promise.race([following, new Promise((resolve) => setTimeout(resolve, 1000))]);
  await client.dispose();
  expect(seen).toEqual(['1.00', '1.50']);
});
