import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { Logger } from '../logger.js';
import { bundlePlayground, type PlaygroundFile } from './playground-bundle.js';
import type { Route } from './router.js';


interface Asset {
  body: Uint8Array;
  headers: Record<string, string>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

// The page loads nothing but its own script and style, and talks only to
// this origin (HTTP POST for queries and mutations, WebSocket for the token
// stream): a key pasted into it cannot be sent anywhere else.
const pagePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function assetOf(name: string, body: Uint8Array): Asset {
  const page = name === 'index.html';
  const headers: Record<string, string> = {
    'content-type': contentTypes[extname(name)] ?? 'application/octet-stream',
    'content-length': String(body.byteLength),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    'x-content-type-options': 'nosniff',
    // The page must be revalidated so a deploy is seen at once; its script
    // and style have hashed names, so they never change under a URL.
    'cache-control': page ? 'no-cache' : 'public, max-age=31536000, immutable',
  };
  if (page) {
    headers['content-security-policy'] = pagePolicy;
    headers['referrer-policy'] = 'no-referrer';
  }
  return { body, headers };
}

const unavailablePage = Buffer.from(
  '<!doctype html><html lang="en"><meta charset="utf-8"><title>Playground unavailable</title>' +
    '<p>The playground could not be built; the server log says why. GraphQL still works at <a href="/graphql">/graphql</a>.</p></html>',
);

/**
 * The playground at `/`, built once at start and served from memory. A build
 * failure is logged and answered with 503 at `/`: the gateway itself still
 * starts.
 */
export async function createPlayground(logger: Logger, bundle: () => Promise<PlaygroundFile[]> = bundlePlayground): Promise<Route> {
  const assets = new Map<string, Asset>();
  const started = performance.now();
  try {
    for (const file of await bundle()) assets.set(`/${file.name}`, assetOf(file.name, file.contents));
    assets.set('/', assets.get('/index.html') as Asset);
    const bytes = [...assets.values()].reduce((sum, asset) => sum + asset.body.byteLength, 0);
    logger.info({ ms: Math.round(performance.now() - started), bytes }, 'playground built');
  } catch (error) {
    logger.error({ err: error }, 'the playground could not be built; / answers 503');
  }

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '/').split('?', 1)[0] as string;
    const asset = assets.get(path);
    if (!asset) {
      if (path !== '/') return false;
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '60' });
      res.end(req.method === 'HEAD' ? undefined : unavailablePage);
      return true;
    }
    if (req.headers['if-none-match'] === asset.headers.etag) {
      res.writeHead(304, { etag: asset.headers.etag as string, 'cache-control': asset.headers['cache-control'] as string });
      res.end();
      return true;
    }
    res.writeHead(200, asset.headers);
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
