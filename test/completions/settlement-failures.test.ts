import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { runToEnd, startCompletion, startServerWithSimulator, streamQuery } from '../helpers/completions.js';
import { createAccount, grant } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { expectLedgerInvariant } from '../helpers/invariants.js';
import type { TestServer } from '../helpers/server.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

// Whatever keeps a settlement from being written, no completion stays
// running: credits, the key's stream slot and subscribers are all released
// within the documented bound (MAX_COMPLETION_DURATION_MS + SETTLEMENT_GRACE_MS
// + a sweep interval). Postgres is made to refuse settlements with a trigger,
// standing for any cause.

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  ({ server, simulator } = await startServerWithSimulator({ MAX_COMPLETION_DURATION_MS: '1500', SETTLEMENT_GRACE_MS: '1000', SWEEP_INTERVAL_MS: '200' }));
  await refuseSettlements(server);
});
afterAll(() => server.stop());

async function refuseSettlements(server: TestServer) {
  await server.pg.query(`
    create function refuse_settlement() returns trigger language plpgsql as $$
    begin
      if new.request->>'user' = 'refused-for-its-data' and new.content <> '' then
        raise exception 'simulated: this text cannot be stored' using errcode = '22P05';
      end if;
      if new.request->>'user' = 'never-settles' and new.status <> 'INTERRUPTED' then
        raise exception 'simulated: settlements of this row cannot be written' using errcode = 'XX000';
      end if;
      return new;
    end $$;
    create trigger refuse_settlement before update on completions for each row execute function refuse_settlement();`);
}

async function oneStreamKey() {
  const accountId = await createAccount(server);
  await grant(server, accountId, '5');
  const data = await gqlOk(server, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
    token: server.adminToken,
    variables: { input: { accountId, name: 'one stream', limits: { maxConcurrentStreams: 1 } } },
  });
  return { accountId, key: data.createApiKey.secret as string };
}

describe('a settlement Postgres refuses for its data', () => {
  it('is written again without the answer text: SUCCEEDED, charged, marked CONTENT_NOT_STORED', async () => {
    const { key } = await oneStreamKey();
    simulator.enqueue({ tokens: ['unstorable ', 'text'] });
    const final = await runToEnd(server, key, { user: 'refused-for-its-data' });
    expect(final).toMatchObject({ status: 'SUCCEEDED', content: '', error: { code: 'CONTENT_NOT_STORED' } });
    expect(Number(final.cost)).toBeGreaterThan(0);
    await expectLedgerInvariant(server);
  });
});

describe('a settlement that cannot be written at all', () => {
  it('is ended by the overdue sweep while its owner lives: INTERRUPTED, free, its slot released and its subscriber told', async () => {
    const { key, accountId } = await oneStreamKey();
    simulator.enqueue({ tokens: ['lost ', 'answer'] });
    const started = await startCompletion(server, key, { user: 'never-settles' });
    const client = wsClient(server, key);
    const { data, errors } = await collectFrom<{ completionStream: any }>(client, streamQuery, { id: started.id });
    await client.dispose();
    expect(errors).toEqual([]);
    expect(data.at(-1)!.completionStream).toMatchObject({ done: true, completion: { status: 'INTERRUPTED', cost: '0.00', error: { code: 'OVERDUE' } } });
    const { rows } = await server.pg.query('select reserved::text from accounts where id = $1', [accountId]);
    expect(rows[0].reserved).toBe('0');
    // The key may run one completion at a time: its slot is free again.
    expect(codeOf(await gql(server, 'mutation { cancelCompletion(id: "' + started.id + '") { status } }', { token: key }))).toBeUndefined();
    expect((await startCompletion(server, key, {})).status).toBe('PENDING');
    await expectLedgerInvariant(server);
  });
});

describe('a shutdown while settlements cannot be written', () => {
  it('closes after twice its deadline instead of retrying until the overdue bound, leaving the row to the next start', async () => {
    const other = await startServerWithSimulator({ SHUTDOWN_DEADLINE_MS: '300' });
    try {
      await refuseSettlements(other.server);
      const accountId = await createAccount(other.server);
      await grant(other.server, accountId, '5');
      const { createApiKey } = await gqlOk(other.server, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', {
        token: other.server.adminToken,
        variables: { input: { accountId, name: 'k' } },
      });
      other.simulator.enqueue({ endless: true, interTokenMs: 20 });
      const started = await startCompletion(other.server, createApiKey.secret, { user: 'never-settles', maxTokens: 4000 });
      // Its overdue bound is 35 minutes away: only giving up ends the stop in this test's time.
      await other.server.app.stop();
      other.server.app.stop = async () => undefined;
      const { rows } = await other.server.pg.query('select status from completions where id = $1', [started.id]);
      expect(['PENDING', 'STREAMING']).toContain(rows[0].status);
    } finally {
      await other.server.stop();
    }
  }, 20_000);
});
