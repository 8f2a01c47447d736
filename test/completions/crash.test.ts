import { describe, expect, it } from 'vitest';
import { startMutation, streamQuery, userMessage } from '../helpers/completions.js';
import { gqlOk } from '../helpers/graphql.js';
import { processHarness } from '../helpers/process-harness.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

const ADMIN_TOKEN = 'crash-test-admin-token-0123';
const harness = processHarness(ADMIN_TOKEN);

describe('a server process killed mid-stream', () => {
  it('leaves its completions INTERRUPTED with the reservation released at the next start', async () => {
    const first = await harness.spawn();
    const admin = { graphqlUrl: first.graphqlUrl };
    const account = (await gqlOk(admin, 'mutation { createAccount(input: { name: "crash" }) { id } }', { token: ADMIN_TOKEN })).createAccount.id;
    await gqlOk(admin, `mutation { grantCredits(input: { accountId: "${account}", amount: "3" }) { id } }`, { token: ADMIN_TOKEN });
    const key = (await gqlOk(admin, `mutation { createApiKey(input: { accountId: "${account}", name: "k" }) { secret } }`, { token: ADMIN_TOKEN })).createApiKey.secret;

    harness.simulator.enqueue({ tokens: Array.from({ length: 500 }, () => 'slow '), interTokenMs: 20 });
    const started = (await gqlOk(admin, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('go') } } })).startCompletion;
    const client = wsClient(admin, key);
    await collectFrom(client, streamQuery, { id: started.id }, (event: any, stop) => {
      if (event.completionStream.index >= 2) stop();
    });
    await client.dispose();

    await first.kill('SIGKILL');
    const dead = await harness.pool.query('select status, reserved::text from completions where id = $1', [started.id]);
    expect(dead.rows[0].status).toBe('PENDING');
    expect((await harness.pool.query('select reserved::text from accounts where id = $1', [account])).rows[0].reserved).toBe(dead.rows[0].reserved);

    const second = await harness.spawn();
    const completion = (await gqlOk({ graphqlUrl: second.graphqlUrl }, 'query($id: ID!) { completion(id: $id) { status cost error { code } } }', { token: key, variables: { id: started.id } })).completion;
    expect(completion).toEqual({ status: 'INTERRUPTED', cost: '0.00', error: { code: 'INTERRUPTED' } });
    const viewer = (await gqlOk({ graphqlUrl: second.graphqlUrl }, '{ viewer { balance reserved } }', { token: key })).viewer;
    expect(viewer).toEqual({ balance: '3.00', reserved: '0.00' });
    const replay = wsClient({ graphqlUrl: second.graphqlUrl }, key);
    const { data } = await collectFrom<{ completionStream: any }>(replay, streamQuery, { id: started.id, after: 2 });
    await replay.dispose();
    expect(data.map((d) => [d.completionStream.index, d.completionStream.done])).toEqual([[3, true]]);
    // Two process starts: slow on a loaded machine, and no measure of anything.
  }, 60_000);
});
