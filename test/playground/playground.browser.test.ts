import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../src/domain/money.js';
import { playgroundOperations } from '../../src/http/playground-operations.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { launchChromium } from '../helpers/chromium.js';
import { startServerWithSimulator } from '../helpers/completions.js';
import { fundedCustomer } from '../helpers/fixtures.js';
import { PlaygroundPage } from '../helpers/playground-page.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let simulator: Simulator;
let trusted: { server: TestServer; simulator: Simulator };
let browser: Browser;
beforeAll(async () => {
  [{ server, simulator }, trusted, browser] = await Promise.all([
    startServerWithSimulator(),
    startServerWithSimulator({ TRUSTED_DOCUMENTS: 'playground' }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), trusted?.server.stop()]);
});

async function stored(id: string, from: TestServer = server): Promise<{ status: string; cost: string | null }> {
  const { rows } = await from.pg.query<{ status: string; cost: string | null }>('select status, cost::text from completions where id = $1', [id]);
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

type Sent = { query?: string; extensions?: { persistedQuery?: { version?: number; sha256Hash?: string } } };

/** Every GraphQL operation the page sends, over HTTP and graphql-ws, as it sends them. */
function recordOperations(page: Page, sent: (Sent & { via: string })[]): void {
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') sent.push({ via: 'http', ...(request.postDataJSON() as Sent) });
  });
  page.on('websocket', (socket) =>
    socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; payload?: Sent };
      if (message.type === 'subscribe') sent.push({ via: 'ws', ...message.payload });
    }),
  );
}

describe('the playground with TRUSTED_DOCUMENTS=playground', () => {
  it('sends every operation by hash, over HTTP and graphql-ws, and still streams and settles a completion', async () => {
    const { key } = await fundedCustomer(trusted.server);
    trusted.simulator.enqueue({ words: 20, ttftMs: 20, interTokenMs: 10 });
    const sent: (Sent & { via: string })[] = [];
    const playground = await PlaygroundPage.open(browser, trusted.server.url, undefined, (page) => recordOperations(page, sent));
    await playground.fill({ key, user: 'By hash, please.' });
    await playground.start();
    await playground.waitForStatus('SUCCEEDED');
    const row = await stored(await playground.text('completion-id'), trusted.server);
    expect(row.status).toBe('SUCCEEDED');
    expect(await playground.text('final-cost')).toBe(row.cost);
    const names = new Map((await playgroundOperations()).map((operation) => [operation.hash, operation.name]));
    for (const operation of sent) {
      expect(operation.query || undefined, operation.via).toBeUndefined();
      expect(operation.extensions?.persistedQuery?.version).toBe(1);
    }
    const named = sent.map((operation) => `${operation.via} ${names.get(operation.extensions?.persistedQuery?.sha256Hash ?? '') ?? 'unknown'}`);
    expect(named).toEqual(expect.arrayContaining(['http Models', 'http Start', 'ws Stream']));
    expect(named.filter((name) => name.endsWith('unknown'))).toEqual([]);
    await playground.page.close();
  });
});
