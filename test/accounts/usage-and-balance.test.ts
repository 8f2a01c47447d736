import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/simulator.js';
import { createAccount, fundedCustomer, grant } from '../helpers/fixtures.js';
import { codeOf, gql, gqlOk } from '../helpers/graphql.js';
import { runToEnd, startCompletion, startServerWithSimulator } from '../helpers/completions.js';
import { collectFrom } from '../helpers/subscriptions.js';
import type { TestServer } from '../helpers/server.js';
import { wsClient } from '../helpers/ws.js';

let server: TestServer;
let simulator: Simulator;
beforeAll(async () => {
  // No retries: a queued upstream fault fails its completion.
  ({ server, simulator } = await startServerWithSimulator({ UPSTREAM_MAX_ATTEMPTS: '1' }));
});
afterAll(() => server.stop());


const usageQuery = `query($groupBy: [UsageGrouping!]) { viewer { usage(groupBy: $groupBy) {
  model { id } day completions failed promptTokens completionTokens cost meanTimeToFirstTokenMs } } }`;

describe('usage', () => {
  it('sums tokens, cost and count per model, failures counted apart', async () => {
    const { key } = await fundedCustomer(server, '5');
    const a = await runToEnd(server, key, { model: 'claude-haiku-4-5' });
    const b = await runToEnd(server, key, { model: 'claude-haiku-4-5' });
    const c = await runToEnd(server, key, { model: 'claude-sonnet-4-6' });
    simulator.enqueue({ fault: 'http500' });
    await runToEnd(server, key, { model: 'claude-sonnet-4-6' });
    const rows = (await gqlOk(server, usageQuery, { token: key })).viewer.usage;
    const haiku = rows.find((r: any) => r.model.id === 'anthropic/claude-haiku-4-5');
    const sonnet = rows.find((r: any) => r.model.id === 'anthropic/claude-sonnet-4-6');
    expect(haiku).toMatchObject({
      day: null,
      completions: 2,
      failed: 0,
      promptTokens: a.usage.promptTokens + b.usage.promptTokens,
      completionTokens: a.usage.completionTokens + b.usage.completionTokens,
    });
    expect(Number(haiku.cost)).toBeCloseTo(Number(a.cost) + Number(b.cost), 9);
    expect(sonnet).toMatchObject({ completions: 2, failed: 1, cost: c.cost });
    expect(haiku.meanTimeToFirstTokenMs).toBeGreaterThanOrEqual(0);
  });

  it('groups by UTC day, and by model and day together', async () => {
    const { key } = await fundedCustomer(server, '5');
    await runToEnd(server, key, {});
    const today = new Date().toISOString().slice(0, 10);
    const byDay = (await gqlOk(server, usageQuery, { token: key, variables: { groupBy: ['DAY'] } })).viewer.usage;
    expect(byDay).toEqual([expect.objectContaining({ day: today, model: null, completions: 1 })]);
    const both = (await gqlOk(server, usageQuery, { token: key, variables: { groupBy: ['MODEL', 'DAY'] } })).viewer.usage;
    expect(both).toEqual([expect.objectContaining({ day: today, model: { id: 'anthropic/claude-haiku-4-5' } })]);
  });

  it('refuses a range that ends before it starts with BAD_USER_INPUT', async () => {
    const { key } = await fundedCustomer(server);
    const response = await gql(server, '{ viewer { usage(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { completions } } }', { token: key });
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
  });

  it('gives the admin an overview across accounts, most expensive first', async () => {
    const small = await fundedCustomer(server, '5');
    const big = await fundedCustomer(server, '5');
    await runToEnd(server, small.key, { model: 'claude-haiku-4-5' });
    await runToEnd(server, big.key, { model: 'claude-4-opus' });
    const rows = (await gqlOk(server, '{ usageOverview { accountId completions cost } }', { token: server.adminToken })).usageOverview;
    const ids = rows.map((r: any) => r.accountId);
    expect(ids.indexOf(big.accountId)).toBeLessThan(ids.indexOf(small.accountId));
    const costs = rows.map((r: any) => Number(r.cost));
    expect(costs).toEqual([...costs].sort((x, y) => y - x));
    expect(codeOf(await gql(server, '{ usageOverview { accountId } }', { token: small.key }))).toBe('FORBIDDEN');
  });
});

describe('subscription balance', () => {
  const balanceSubscription = 'subscription { balance { balance reserved available } }';

  it('pushes the balance now, then on every reservation and settlement', async () => {
    const { key } = await fundedCustomer(server, '2');
    const client = wsClient(server, key);
    const updates: any[] = [];
    let completionId: string | undefined;
    const done = collectFrom<{ balance: any }>(client, balanceSubscription, {}, (event, stop) => {
      updates.push(event.balance);
      if (updates.length === 1) {
        simulator.enqueue({ tokens: ['a', 'b'], ttftMs: 1000 });
        void startCompletion(server, key, {}).then((c) => (completionId = c.id));
      }
      if (updates.length >= 2 && event.balance.reserved === '0.00' && event.balance.balance !== '2.00') stop();
    });
    await done;
    await client.dispose();
    expect(completionId).toBeDefined();
    expect(updates[0]).toEqual({ balance: '2.00', reserved: '0.00', available: '2.00' });
    expect(updates.some((u) => u.reserved !== '0.00')).toBe(true);
    const last = updates.at(-1);
    expect(Number(last.balance)).toBeLessThan(2);
    expect(last.available).toBe(last.balance);
  });

  it('pushes a grant made by the admin', async () => {
    const { key, accountId } = await fundedCustomer(server, '1');
    const client = wsClient(server, key);
    const updates: any[] = [];
    await collectFrom<{ balance: any }>(client, balanceSubscription, {}, (event, stop) => {
      updates.push(event.balance.balance);
      if (updates.length === 1) void grant(server, accountId, '0.5');
      else stop();
    });
    await client.dispose();
    expect(updates).toEqual(['1.00', '1.50']);
  });

  it("of another account is refused to a key with FORBIDDEN", async () => {
    const { key } = await fundedCustomer(server);
    const other = await createAccount(server);
    const client = wsClient(server, key);
    const { errors } = await collectFrom(client, 'subscription($id: ID) { balance(accountId: $id) { balance } }', { id: other });
    await client.dispose();
    expect(errors[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
