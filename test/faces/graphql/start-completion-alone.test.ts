import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userMessage } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gql, type GraphQLResponse } from '../../helpers/graphql.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { wsClient, wsRequest } from '../../helpers/ws.js';

// startCompletion is non-null, and so is every other mutation field: a
// field that failed after it would null the whole answer, and the client
// would never learn the id of a completion that runs and is charged. So a
// mutation holding startCompletion may hold nothing else, refused before
// anything runs.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

// Enough credits for the first start, not for the second's worst case.
const CREDITS = '0.01';
const fits = { model: 'claude-haiku-4-5', messages: userMessage('a'), maxTokens: 16 };
const tooLarge = { ...fits, maxTokens: 10_000 };
const twoStarts = `mutation($a: CompletionInput!, $b: CompletionInput!) {
  a: startCompletion(input: $a) { id }
  b: startCompletion(input: $b) { id }
}`;

/** The same mutation over HTTP and over graphql-ws, each from an account of its own; both answers, with what each account got. */
async function overBoth(query: string, variables: (accountId: string) => Record<string, unknown>) {
  const viaHttp = await fundedCustomer(server, CREDITS);
  const viaWs = await fundedCustomer(server, CREDITS);
  const http = await gql(server, query, { token: viaHttp.key, variables: variables(viaHttp.accountId) });
  const client = wsClient(server, viaWs.key);
  try {
    const ws = await wsRequest(client, query, variables(viaWs.accountId));
    return [
      { response: http, accountId: viaHttp.accountId },
      { response: ws, accountId: viaWs.accountId },
    ];
  } finally {
    await client.dispose();
  }
}

/** Completions started and credits reserved for the account, straight from Postgres. */
async function touched(accountId: string) {
  const completions = await server.pg.query('select count(*)::int as n from completions where account_id = $1', [accountId]);
  const account = await server.pg.query('select reserved::text from accounts where id = $1', [accountId]);
  return { completions: completions.rows[0].n as number, reserved: account.rows[0].reserved as string };
}

function expectRefusedUnrun(response: Pick<GraphQLResponse, 'data' | 'errors'>) {
  expect(response.data ?? undefined).toBeUndefined();
  expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  expect(response.errors?.[0]?.message).toMatch(/startCompletion must be the only field of its mutation/);
}

describe('a mutation holding startCompletion', () => {
  it('with a second, aliased startCompletion is refused before anything is reserved, over HTTP and graphql-ws', async () => {
    for (const { response, accountId } of await overBoth(twoStarts, () => ({ a: fits, b: tooLarge }))) {
      expectRefusedUnrun(response);
      expect(await touched(accountId)).toEqual({ completions: 0, reserved: '0' });
    }
  });

  it('with another mutation field beside it is refused before anything is reserved, over HTTP and graphql-ws', async () => {
    const query = `mutation($input: CompletionInput!, $other: ID!) {
      startCompletion(input: $input) { id }
      cancelCompletion(id: $other) { id }
    }`;
    for (const { response, accountId } of await overBoth(query, () => ({ input: fits, other: randomUUID() }))) {
      expectRefusedUnrun(response);
      expect(await touched(accountId)).toEqual({ completions: 0, reserved: '0' });
    }
  });

  it('is refused when the second startCompletion comes through a fragment', async () => {
    const { key } = await fundedCustomer(server, CREDITS);
    const query = `mutation($a: CompletionInput!, $b: CompletionInput!) { a: startCompletion(input: $a) { id } ...More }
      fragment More on Mutation { b: startCompletion(input: $b) { id } }`;
    expectRefusedUnrun(await gql(server, query, { token: key, variables: { a: fits, b: fits } }));
  });

  it('alone, with __typename beside it, starts its completion', async () => {
    const { key } = await fundedCustomer(server, CREDITS);
    const response = await gql(server, 'mutation($input: CompletionInput!) { __typename startCompletion(input: $input) { id } }', { token: key, variables: { input: fits } });
    expect(response.errors).toBeUndefined();
    expect(response.data?.startCompletion.id).toEqual(expect.any(String));
  });
});
