import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

// The thin-proxy limit: a minimal HTTP pass-through in plain Node that
// forwards each request to the upstream and pipes the SSE answer back as it
// comes. What the gateway costs beyond this is the price of what it adds.

const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

const server = createServer((req, res) => {
  const forward = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    },
  );
  forward.once('error', () => res.destroy());
  // A client that leaves closes the upstream request too.
  res.once('close', () => {
    if (!res.writableFinished) forward.destroy();
  });
  req.pipe(forward);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', baseUrl: `http://127.0.0.1:${port}/v1` });
});
process.on('disconnect', () => process.exit(0));
