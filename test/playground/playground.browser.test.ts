import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/domain/money.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { launchChromium } from '../helpers/chromium.js';
import { startServerWithSimulator } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { PlaygroundPage } from '../helpers/playground-page.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
let browser: Browser;
beforeAll(async () => {
  [{ server, simulator }, browser] = await Promise.all([startServerWithSimulator(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function stored(id: string): Promise<{ status: string; cost: string | null }> {
  const { rows } = await server.pg.query<{ status: string; cost: string | null }>('select status, cost::text from completions where id = $1', [id]);
  const row = rows[0];
  if (!row) throw new Error(`no completion ${id} in Postgres`);
  return { status: row.status, cost: row.cost === null ? null : formatMoney(BigInt(row.cost)) };
}

describe('the playground at /', () => {
  it('lists every model with its prices and preselects the recommended one', async () => {
    const playground = await PlaygroundPage.open(browser, server.url);
    const { rows } = await server.pg.query<{ id: string }>('select id from models');
    const options = await playground.page.locator('#model option').allTextContents();
    expect(options).toHaveLength(rows.length);
    expect(options.find((o) => o.startsWith('Sonnet 4.6:'))).toMatch(/^Sonnet 4\.6: 3\.00 in \/ 15\.00 out/);
    const selected = await playground.page.locator('#model').inputValue();
    const { rows: recommended } = await server.pg.query<{ id: string }>('select id from models where recommended and enabled order by id limit 1');
    expect(selected).toBe(recommended[0]?.id);
    expect(await playground.text('model-price')).toMatch(/credits per million input tokens/);
    await playground.page.close();
  });

  it('streams the answer token by token, then shows exactly the cost stored for the completion', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 60, ttftMs: 50, interTokenMs: 30 });
    const playground = await PlaygroundPage.open(browser, server.url);
    await playground.fill({ key, system: 'Be brief.', user: 'Tell me about metering.', maxTokens: 200, temperature: 0.5 });
    await playground.start();

    const early = await playground.waitForOutputLongerThan(0);
    const later = await playground.waitForOutputLongerThan(early.length + 20);
    expect(later.startsWith(early)).toBe(true);
    expect(await playground.status()).toBe('STREAMING');
    expect(Number(await playground.text('output-tokens'))).toBeGreaterThan(0);

    await playground.waitForStatus('SUCCEEDED');
    const id = await playground.text('completion-id');
    const row = await stored(id);
    expect(row.status).toBe('SUCCEEDED');
    expect(row.cost).not.toBeNull();
    expect(await playground.text('final-cost')).toBe(row.cost);
    expect(await playground.output()).toBe((await server.pg.query('select content from completions where id = $1', [id])).rows[0].content);
    const request = simulator.requests.at(-1)?.body as { messages: unknown[]; temperature: number };
    expect(request.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Tell me about metering.' },
    ]);
    expect(request.temperature).toBe(0.5);
    await playground.page.close();
  });

  it('cancels a running completion: CANCELLED on the page and in Postgres, charged what was generated', async () => {
    const { key } = await fundedCustomer(server);
    simulator.enqueue({ words: 2000, ttftMs: 20, interTokenMs: 20 });
    const playground = await PlaygroundPage.open(browser, server.url);
    await playground.fill({ key, user: 'A very long story, please.' });
    await playground.start();
    await playground.waitForOutputLongerThan(30);
    await playground.cancel();

    await playground.waitForStatus('CANCELLED');
    const row = await stored(await playground.text('completion-id'));
    expect(row.status).toBe('CANCELLED');
    expect(await playground.text('final-cost')).toBe(row.cost);
    expect(Number(row.cost)).toBeGreaterThan(0);
    expect(await playground.page.getByRole('button', { name: 'Start' }).isEnabled()).toBe(true);
    await playground.page.close();
  });
});
