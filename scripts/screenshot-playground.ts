import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startSimulator } from '../src/simulator/simulator.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { createAccount, createKey, grant } from '../test/helpers/fixtures.js';
import { PlaygroundPage } from '../test/helpers/playground-page.js';

// Renders docs/playground.png: the playground after one answer, on an
// in-memory database, with a simulator upstream that gives a scripted answer
// (the built-in one answers lorem ipsum). Needs /usr/bin/chromium.
const target = fileURLToPath(new URL('../docs/playground.png', import.meta.url));

const simulator = await startSimulator({ ttftMs: 200, interTokenMs: 15 });
simulator.enqueue({
  text:
    'A metered gateway counts what each request really uses: the prompt tokens going in and the completion tokens coming out, ' +
    "each at the model's own price.\n\n" +
    'Before a request runs, it reserves the worst case from prepaid credits, so an account can never overspend; ' +
    'when the answer ends, it charges exactly what the upstream reported and releases the rest.\n\n' +
    'Counting tokens instead of requests keeps prices fair: a one-line answer and a ten-page report cost what they cost.',
});
const app = await buildApp(
  loadConfig({
    DATABASE_URL: 'memory://',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    UPSTREAM_BASE_URL: simulator.baseUrl,
    UPSTREAM_API_KEY: 'th-simulator',
  }),
);
const browser = await launchChromium();
try {
  const url = await app.start();
  const admin = { graphqlUrl: `${url}/graphql`, adminToken: app.adminToken };
  const accountId = await createAccount(admin, 'Acme Corp');
  await grant(admin, accountId, '25.00');
  const { secret } = await createKey(admin, accountId, 'playground');

  const playground = await PlaygroundPage.open(browser, url, { width: 1280, height: 820 });
  await playground.fill({
    key: secret,
    system: 'You explain infrastructure to product managers.',
    user: 'Why does an API gateway meter tokens instead of requests?',
    maxTokens: 400,
    temperature: 0.7,
  });
  await playground.start();
  await playground.waitForStatus('SUCCEEDED');
  await playground.page.waitForFunction(() => document.getElementById('account')?.textContent?.includes('available'));
  await playground.page.screenshot({ path: target });
  console.log(`wrote ${target}`);
} finally {
  await browser.close();
  await app.stop();
  await simulator.close();
}
