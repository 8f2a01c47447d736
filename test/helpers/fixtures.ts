import { gqlOk } from './graphql.js';
import type { TestServer } from './server.js';

/** What fixtures need of a server: in-process or a child process. */
export type AdminTarget = Pick<TestServer, 'graphqlUrl' | 'adminToken'>;

let counter = 0;

/** A new account (its own rows, so tests never see each other's money). */
export async function createAccount(server: AdminTarget, name = `account ${++counter}`): Promise<string> {
  const data = await gqlOk<{ createAccount: { id: string } }>(
    server,
    'mutation($name: String!) { createAccount(input: { name: $name }) { id } }',
    { token: server.adminToken, variables: { name } },
  );
  return data.createAccount.id;
}

export async function grant(server: AdminTarget, accountId: string, amount: string, idempotencyKey?: string) {
  const data = await gqlOk<{ grantCredits: { id: string; amount: string; balanceAfter: string } }>(
    server,
    `mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { id amount balanceAfter } }`,
    { token: server.adminToken, variables: { input: { accountId, amount, idempotencyKey } } },
  );
  return data.grantCredits;
}

export async function createKey(server: AdminTarget, accountId: string, name = 'test key') {
  const data = await gqlOk<{ createApiKey: { apiKey: { id: string; prefix: string }; secret: string } }>(
    server,
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id prefix } secret } }`,
    { token: server.adminToken, variables: { input: { accountId, name } } },
  );
  return data.createApiKey;
}

/** An account with credits and a live key: what most tests start from. */
export async function fundedCustomer(server: AdminTarget, credits = '10.00') {
  const accountId = await createAccount(server);
  if (credits !== '0') await grant(server, accountId, credits);
  const key = await createKey(server, accountId);
  return { accountId, key: key.secret, keyId: key.apiKey.id };
}

/** The admin turns a model on or off (by id or alias). */
export async function setModelEnabled(server: AdminTarget, id: string, enabled: boolean): Promise<void> {
  await gqlOk(server, 'mutation($input: UpdateModelInput!) { updateModel(input: $input) { id } }', { token: server.adminToken, variables: { input: { id, enabled } } });
}
