import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { findAccount } from '../../src/domain/accounts/account-record.js';
import { fundedCustomer, grant } from '../helpers/fixtures.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { wsClient } from '../helpers/ws.js';

// The race needs a grant that commits after the subscription read the
// account and before it could listen; wrapping findAccount puts one exactly there.
vi.mock(import('../../src/domain/accounts/account-record.js'), async (importOriginal) => {
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
  const seen: string[] = [];
  let final: string | undefined;
  // Every read before the client's first value is followed by a grant.
  const read = vi.mocked(findAccount);
  const readAccount = read.getMockImplementation()!;
  read.mockImplementation(async (db, id) => {
    const account = await readAccount(db, id);
    if (id === accountId && seen.length === 0) final = (await grant(server, accountId, '0.5')).balanceAfter;
    return account;
  });
  const client = wsClient(server, key);
  const following = collectFrom<{ balance: { balance: string } }>(client, 'subscription { balance { balance } }', {}, (event, stop) => {
    seen.push(event.balance.balance);
    if (event.balance.balance === final) stop();
  });
  await Promise.race([following, new Promise((resolve) => setTimeout(resolve, 5000))]);
  await client.dispose();
  read.mockImplementation(readAccount);
  expect(seen[0]).not.toBe(final);
  expect(seen.at(-1)).toBe(final);
});
