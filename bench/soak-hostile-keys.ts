import type { Client } from 'graphql-ws';
import { createAccount, fundedCustomer, grant } from '../test/helpers/fixtures.js';
import { collectFrom, type StreamResult } from '../test/helpers/subscriptions.js';
import { graphql, MODEL, pause, within, wsClientOf, type SoakTarget } from './soak-gateway.js';
import { failureOutcome, graphqlOutcome, type Tally } from './soak-tally.js';

// Hostile use of API keys: a rate-limited key that packs many starts into
// one request and sends many at once (b), and an account that creates keys
// up to its cap and revokes them while they hold subscriptions open (c).

const RATE_LIMIT = 5;
const ALIASES = 10;

/**
 * (b) Every second, from a key allowed RATE_LIMIT completions a minute: one
 * mutation packing ALIASES aliased startCompletion fields, which must be
 * refused whole before anything runs (GRAPHQL_VALIDATION_FAILED: a failing
 * sibling of a non-null startCompletion would hide a started completion's
 * id), and ALIASES single starts sent at once, of which the limit lets
 * RATE_LIMITED through per window. The completions started are counted by
 * the server (the key's completions' totalCount): a packed mutation that
 * started any, or more than the minute windows allow, is a defect.
 */
export async function aliasedStarts(target: SoakTarget, tally: Tally, signal: AbortSignal): Promise<void> {
  const outcomes = tally.client('b. aliased startCompletion', ['packed mutation refused', 'started', 'RATE_LIMITED']);
  const accountId = await createAccount(target);
  await grant(target, accountId, '10.00');
  const created = await graphql<{ createApiKey: { secret: string } }>(
    target,
    {
      query: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      variables: { input: { accountId, name: 'five a minute', limits: { requestsPerMinute: RATE_LIMIT } } },
    },
    target.adminToken,
  );
  const key = created.body.data?.createApiKey.secret;
  if (!key) throw new Error(`could not create the rate-limited key: ${JSON.stringify(created.body)}`);
  const variables = { input: { model: MODEL, maxTokens: 16, messages: [{ role: 'user', content: 'aliased [sim:words=5,itl=5]' }] } };
  const fields = Array.from({ length: ALIASES }, (_, i) => `s${i}: startCompletion(input: $input) { id }`).join(' ');
  const packed = { query: `mutation($input: CompletionInput!) { ${fields} }`, variables };
  const single = { query: 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }', variables };
  const completions = async (): Promise<number> => {
    const answer = await graphql<{ viewer: { completions: { totalCount: number } } }>(target, { query: '{ viewer { completions(first: 1) { totalCount } } }' }, key);
    const total = answer.body.data?.viewer.completions.totalCount;
    if (total === undefined) throw new Error(`could not count the key's completions: ${JSON.stringify(answer.body)}`);
    return total;
  };
  let total = 0;
  let first: number | undefined;
  let last = 0;
  while (!signal.aborted) {
    const at = Date.now();
    first ??= at;
    last = at;
    const refused = await graphql(target, packed, key);
    const startedByPacked = (await completions()) - total;
    total += startedByPacked;
    const outcome = graphqlOutcome(refused.status, refused.body);
    if (outcome === 'GRAPHQL_VALIDATION_FAILED' && startedByPacked === 0) outcomes.record('packed mutation refused');
    else outcomes.record(`packed mutation: ${outcome}, ${startedByPacked} started`, JSON.stringify(refused.body));
    const answers = await Promise.all(Array.from({ length: ALIASES }, () => graphql(target, single, key)));
    for (const answer of answers) {
      const result = graphqlOutcome(answer.status, answer.body);
      outcomes.record(result === 'ok' ? 'started' : result, JSON.stringify(answer.body));
    }
    total = await completions();
    await pause(1000 - (Date.now() - at), signal);
  }
  // Fixed one-minute windows from the key's first start: the requests span this many.
  const windows = first === undefined ? 0 : Math.floor((last - first) / 60_000) + 1;
  if (total > RATE_LIMIT * windows) outcomes.record(`${total} completions started in ${windows} one-minute window(s)`);
}

const balanceQuery = 'subscription { balance { balance } }';

/** A key the churn created, with the balance subscription it holds open. */
interface HeldKey {
  id: string;
  client: Client;
  ended: Promise<StreamResult>;
}

/**
 * (c) The account's owner key creates keys until FORBIDDEN (MAX_KEYS_PER_ACCOUNT
 * live keys, the owner's included), each holding a balance subscription;
 * then revokes some, each of whose subscriptions must end UNAUTHENTICATED at
 * once; and creates again.
 */
export async function keyChurn(target: SoakTarget, maxKeysPerAccount: number, tally: Tally, signal: AbortSignal): Promise<void> {
  const keys = tally.client('c. key churn', ['created', 'FORBIDDEN at the cap', 'revoked', 'socket closed 1013 (retried)']);
  const revocations = tally.client('c. subscriptions of revoked keys', ['ended UNAUTHENTICATED'], 'subscription not ended on revocation');
  const owner = await fundedCustomer(target, '1.00');
  const live: HeldKey[] = [];

  /** Creates one key and opens its subscription; false once the account is refused more. */
  const createOne = async (): Promise<boolean> => {
    const answer = await graphql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
      target,
      { query: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }', variables: { input: { name: 'churn' } } },
      owner.key,
    );
    const outcome = graphqlOutcome(answer.status, answer.body);
    const liveKeys = live.length + 1;
    const created = answer.body.data?.createApiKey;
    if (outcome === 'FORBIDDEN') keys.record(liveKeys === maxKeysPerAccount ? 'FORBIDDEN at the cap' : `FORBIDDEN with ${liveKeys} live keys`, JSON.stringify(answer.body));
    else if (!created) keys.record(outcome, JSON.stringify(answer.body));
    else keys.record(liveKeys < maxKeysPerAccount ? 'created' : `created with ${liveKeys} live keys already`);
    if (!created) return false;
    const client = wsClientOf(target, created.secret, { onServerClose: (code) => keys.record(code === 1013 ? 'socket closed 1013 (retried)' : `socket closed ${code}`) });
    let opened!: () => void;
    const firstValue = new Promise<void>((resolve) => (opened = resolve));
    const ended = collectFrom(client, balanceQuery, {}, () => opened());
    // Long enough for graphql-ws's retries of a socket closed with 1013 (pushed out by f's bursts mid-handshake).
    const opening = await within(Promise.race([firstValue.then(() => 'open' as const), ended.then(() => 'ended' as const, () => 'ended' as const)]), 20_000);
    if (opening !== 'open') keys.record(opening === 'ended' ? 'balance subscription ended at once' : 'balance subscription did not open in 20 s');
    live.push({ id: created.apiKey.id, client, ended });
    return true;
  };

  const revokeOne = async (held: HeldKey): Promise<void> => {
    const answer = await graphql(target, { query: 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', variables: { id: held.id } }, owner.key);
    const outcome = graphqlOutcome(answer.status, answer.body);
    keys.record(outcome === 'ok' ? 'revoked' : `revoke ${outcome}`, JSON.stringify(answer.body));
    const result = await within(
      held.ended.catch((error: unknown): StreamResult => ({ data: [], errors: [{ message: failureOutcome(error) }] })),
      5_000,
    );
    if (result === 'timeout') revocations.record('still open 5 s after the revocation');
    else {
      const codes = result.errors.map((e) => e.extensions?.code ?? e.message).join(', ');
      revocations.record(codes === 'UNAUTHENTICATED' ? 'ended UNAUTHENTICATED' : `ended with [${codes}]`);
    }
    await held.client.dispose();
  };

  try {
    while (!signal.aborted) {
      // Until FORBIDDEN; bounded, should the cap not hold (a defect, recorded).
      for (let i = 0; i <= maxKeysPerAccount && !signal.aborted && (await createOne()); i++);
      for (const held of live.splice(0, Math.ceil(maxKeysPerAccount / 4))) await revokeOne(held);
      await pause(1000, signal);
    }
  } finally {
    await Promise.all(live.map((held) => held.client.dispose()));
  }
}
