import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlayground } from '../../src/http/playground.js';
import { createLogger } from '../../src/logger.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** The playground handler alone on a port; whatever it declines answers 404 "next". */
async function serve(bundle?: Parameters<typeof createPlayground>[1]): Promise<string> {
  const playground = await createPlayground(createLogger({ logLevel: 'silent' }), bundle);
  server = createServer((req, res) => {
    if (!playground(req, res)) res.writeHead(404).end('next');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('serving the playground', () => {
  it('serves the page at / with a strict content policy and scripts under hashed, immutable names', async () => {
    const url = await serve();
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    const script = /src="(\/playground-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/playground-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    const js = await fetch(`${url}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toContain('completionStream');
    expect((await fetch(`${url}${style}`)).status).toBe(200);
  });

  it('answers 304 when the browser already has the current version', async () => {
    const url = await serve();
    const etag = (await fetch(`${url}/`)).headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${url}/`, { headers: { 'if-none-match': etag as string } });
    expect(again.status).toBe(304);
  });

  it('leaves every other path and method to the next handler', async () => {
    const url = await serve();
    expect(await (await fetch(`${url}/graphql`)).text()).toBe('next');
    expect(await (await fetch(`${url}/playground.js`)).text()).toBe('next');
    expect(await (await fetch(`${url}/`, { method: 'POST' })).text()).toBe('next');
  });

  it('answers 503 at / when the build failed, and the server still serves the rest', async () => {
    const url = await serve(() => Promise.reject(new Error('esbuild is missing')));
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('could not be built');
    expect(await (await fetch(`${url}/graphql`)).text()).toBe('next');
  });
});
