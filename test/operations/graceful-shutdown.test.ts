import { describe, expect, it } from 'vitest';
import { startCompletion, startMutation, startServerWithSimulator, streamQuery, userMessage } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { gqlOk } from '../helpers/graphql.js';
import { processHarness } from '../helpers/process-harness.js';
import { collectFrom } from '../helpers/subscriptions.js';
import { wsClient } from '../helpers/ws.js';

const ADMIN_TOKEN = 'shutdown-test-admin-token-01';
const harness = processHarness(ADMIN_TOKEN);

async function serverWithCustomer(deadlineMs: number) {
  const child = await harness.spawn({ SHUTDOWN_DEADLINE_MS: String(deadlineMs) });
  const target = { graphqlUrl: child.graphqlUrl };
  const account = (await gqlOk(target, 'mutation { createAccount(input: { name: "drain" }) { id } }', { token: ADMIN_TOKEN })).createAccount.id;
  await gqlOk(target, `mutation { grantCredits(input: { accountId: "${account}", amount: "5" }) { id } }`, { token: ADMIN_TOKEN });
  const key = (await gqlOk(target, `mutation { createApiKey(input: { accountId: "${account}", name: "k" }) { secret } }`, { token: ADMIN_TOKEN })).createApiKey.secret;
  return { child, target, key };
}

async function startAndWatch(target: { graphqlUrl: string }, key: string, tokens: number) {
  harness.simulator.enqueue({ tokens: Array.from({ length: tokens }, () => 'tok '), interTokenMs: 20 });
  const started = (await gqlOk(target, startMutation, { token: key, variables: { input: { model: 'claude-haiku-4-5', messages: userMessage('drain') } } })).startCompletion;
  const client = wsClient(target, key);
  let sawFirst!: () => void;
  const firstEvent = new Promise<void>((resolve) => (sawFirst = resolve));
  const events = collectFrom<{ completionStream: any }>(client, streamQuery, { id: started.id }, () => sawFirst());
  await firstEvent;
  return { id: started.id as string, events, client };
}

const running = async () =>
  (await harness.pool.query(`select count(*)::int as n from completions where status in ('PENDING', 'STREAMING')`)).rows[0].n;

describe('SIGTERM', () => {
  it('lets a running completion finish within the deadline, then exits', async () => {
    const { child, target, key } = await serverWithCustomer(10_000);
    const watch = await startAndWatch(target, key, 30);
    await child.kill('SIGTERM');
    expect(child.process.exitCode).toBe(0);
    const { data } = await watch.events;
    await watch.client.dispose();
    const last = data.at(-1)!.completionStream;
    expect(last.done).toBe(true);
    expect(last.completion.status).toBe('SUCCEEDED');
    expect(last.completion.content).toBe('tok '.repeat(30));
    expect(await running()).toBe(0);
  });

  it('cancels and settles what outlives the deadline, charging what was generated', async () => {
    const { child, target, key } = await serverWithCustomer(300);
    const watch = await startAndWatch(target, key, 1000);
    await child.kill('SIGTERM');
    const { data } = await watch.events;
    await watch.client.dispose();
    const last = data.at(-1)!.completionStream;
    expect(last.completion).toMatchObject({ status: 'CANCELLED', error: { code: 'SHUTDOWN' } });
    expect(Number(last.completion.cost)).toBeGreaterThan(0);
    const { rows } = await harness.pool.query('select status, cost::text from completions where id = $1', [watch.id]);
    expect(rows[0].status).toBe('CANCELLED');
    expect(await running()).toBe(0);
    const { rows: accounts } = await harness.pool.query(`select count(*)::int as n from accounts where reserved <> 0`);
    expect(accounts[0].n).toBe(0);
    expect(await harness.simulator.requests.at(-1)!.finished).toBe('client-closed');
  });
});

describe('a stopping server', () => {
  it('refuses new completions with UNAVAILABLE while it drains', async () => {
    const { server, simulator: own } = await startServerWithSimulator({ SHUTDOWN_DEADLINE_MS: '2000' });
    const { key, accountId } = await fundedCustomer(server);
    own.enqueue({ tokens: ['a ', 'b ', 'c '], interTokenMs: 200 });
    await startCompletion(server, key, {});
    const stopping = server.stop();
    const refused = server.app.domain.completions.start({ kind: 'admin' }, { accountId, model: 'claude-haiku-4-5', messages: userMessage('late') });
    await expect(refused).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await stopping;
  });
});
