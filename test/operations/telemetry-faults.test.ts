import { createServer, type Server, type Socket } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { fundedCustomer } from '../helpers/fixtures.js';

// What a hostile caller, or a collector that fails, can make of the tracing
// and of the per-operation metrics.

const exporter = new InMemorySpanExporter();
let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { spanProcessor: new SimpleSpanProcessor({ exporter }) });
});
afterAll(() => server?.stop());
beforeEach(() => exporter.reset());

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const parentId = '00f067aa0ba902b7';

describe('incoming trace context from a hostile caller', () => {
  it("keeps no caller tracestate on the gateway's spans", async () => {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'evil=c2VjcmV0,rojo=00f067aa0ba902b7' },
      body: JSON.stringify({ query: 'query Models { models { id } }' }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => exporter.getFinishedSpans().length).toBeGreaterThan(0);
    const states = exporter.getFinishedSpans().map((span) => `${span.name}: ${span.spanContext().traceState?.serialize() ?? ''}`);
    expect(states.filter((state) => !state.endsWith(': '))).toEqual([]);
  });

  it('answers malformed, huge and repeated traceparent headers normally, each request a trace of its own', async () => {
    const bad = [
      'garbage',
      `ff-${traceId}-${parentId}-01`,
      `00-${'0'.repeat(32)}-${parentId}-01`,
      `00-${traceId}-${parentId}-01-${'x'.repeat(6000)}`,
      `00-${traceId.toUpperCase()}-${parentId}-01`,
    ];
    for (const traceparent of bad) {
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent, tracestate: `${'k=v,'.repeat(2000)}k=v` },
        body: JSON.stringify({ query: '{ models { id } }' }),
      });
      expect(response.status).toBe(200);
    }
    const roots = exporter.getFinishedSpans().filter((span) => span.name === 'POST /graphql');
    expect(roots.length).toBe(bad.length);
  });
});

describe('per-operation metrics under made-up operation names', () => {
  it("does not let an anonymous caller's made-up operation names push a customer's operation out of its own label", async () => {
    // `models` needs no token: anyone can send these.
    for (let batch = 0; batch < 25; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `query Junk${batch}x${i} { models { id } }` }) }).then((r) => r.text()),
        ),
      );
    }
    const { key } = await fundedCustomer(server);
    const viewer = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'query CustomerViewer { viewer { id } }' }),
    });
    expect(viewer.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const labels = new Set([...metrics.matchAll(/^tokenhub_graphql_operation_duration_seconds_count\{[^}]*operation="([^"]*)"/gm)].map((m) => m[1]));
    expect(labels.has('CustomerViewer')).toBe(true);
  });
});

/** A TCP server that takes connections and never answers: a collector that hangs. */
async function hangingCollector(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const { port } = tcp.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

/** 'stopped', or why the stop failed. */
function stopOutcome(own: TestServer): Promise<string> {
  return own.stop().then(
    () => 'stopped',
    async (error: unknown) => {
      // The helper's cleanup did not run: end the check pool at least.
      await own.pg.end().catch(() => undefined);
      return `stop rejected: ${(error as Error).message}`;
    },
  );
}

describe('an OTLP collector that hangs or is not there', () => {
  it('answers requests and stops cleanly when the collector hangs', { timeout: 20_000 }, async () => {
    const collector = await hangingCollector();
    const own = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    try {
      for (let i = 0; i < 20; i++) {
        const response = await fetch(own.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ models { id } }' }) });
        expect(response.status).toBe(200);
      }
      // The stop waits for the exporter's timeout (10 s), then closes all the same.
      expect(await stopOutcome(own)).toBe('stopped');
    } finally {
      await collector.close();
    }
  });

  it('stops cleanly when the collector refuses connections', { timeout: 20_000 }, async () => {
    const collector = await hangingCollector();
    const url = collector.url;
    await collector.close();
    const own = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: url });
    for (let i = 0; i < 5; i++) await (await fetch(own.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ models { id } }' }) })).text();
    expect(await stopOutcome(own)).toBe('stopped');
  });
});
