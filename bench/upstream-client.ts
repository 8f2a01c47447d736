import { Agent, request } from 'node:http';
import { createUpstreamClient } from '../src/upstream/client.js';
import { parseChunk, toUpstreamChunk } from '../src/upstream/openai-mapping.js';
import { SseDataDecoder } from '../src/upstream/sse-decoder.js';
import { startSimulator } from '../src/simulator/simulator.js';
import type { UpstreamRequest } from '../src/domain/completions/upstream.js';

// `npx tsx bench/upstream-client.ts`: CPU per token of the gateway's
// upstream client (src/upstream/client.ts) against its floor, a bare
// node:http reader with the same SSE decoder and chunk parsing, on 50
// concurrent streams of 256 tokens from the simulator in this process
// (so both figures include the simulator's share). Rounds alternate.

const STREAMS = 50;
const ROUNDS = 3;
const simulator = await startSimulator();
const client = createUpstreamClient({ baseUrl: simulator.baseUrl, apiKey: 'bench', firstByteTimeoutMs: 10_000, idleTimeoutMs: 10_000 });
const agent = new Agent({ keepAlive: true });

const requestOf = (interTokenMs: number): UpstreamRequest => ({
  model: 'anthropic/claude-haiku-4-5',
  maxTokens: 300,
  messages: [{ role: 'user', content: `Benchmark [sim:words=256,ttft=0,itl=${interTokenMs}]` }],
});

async function viaClient(interTokenMs: number): Promise<number> {
  let tokens = 0;
  for await (const chunk of client.streamChat(requestOf(interTokenMs), new AbortController().signal)) if (chunk.contentDelta) tokens += 1;
  return tokens;
}

function viaBareHttp(interTokenMs: number): Promise<number> {
  const body = JSON.stringify({ model: 'anthropic/claude-haiku-4-5', stream: true, max_tokens: 300, messages: requestOf(interTokenMs).messages });
  return new Promise((resolve, reject) => {
    const post = request(`${simulator.baseUrl}/chat/completions`, { method: 'POST', agent, headers: { authorization: 'Bearer bench', 'content-type': 'application/json' } }, (res) => {
      const decoder = new SseDataDecoder();
      const events: string[] = [];
      let tokens = 0;
      res.on('data', (bytes: Buffer) => {
        decoder.decode(bytes, events);
        for (const data of events) if (data !== '[DONE]' && toUpstreamChunk(parseChunk(data))?.contentDelta) tokens += 1;
        events.length = 0;
      });
      res.once('end', () => resolve(tokens));
      res.once('error', reject);
    });
    post.once('error', reject);
    post.end(body);
  });
}

async function microsecondsPerToken(run: (interTokenMs: number) => Promise<number>, interTokenMs: number): Promise<number> {
  const before = process.cpuUsage();
  const counts = await Promise.all(Array.from({ length: STREAMS }, () => run(interTokenMs)));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / counts.reduce((a, b) => a + b, 0);
}

for (const interTokenMs of [10, 0]) {
  const figures: Record<string, number[]> = { client: [], bare: [] };
  // The first round warms both up.
  for (let round = 0; round <= ROUNDS; round++) {
    const client = await microsecondsPerToken(viaClient, interTokenMs);
    const bare = await microsecondsPerToken(viaBareHttp, interTokenMs);
    if (round === 0) continue;
    figures.client?.push(client);
    figures.bare?.push(bare);
  }
  const text = (values: number[] = []) => values.map((v) => v.toFixed(1)).join(' / ');
  console.log(`${interTokenMs} ms between tokens: client ${text(figures.client)} µs CPU per token; bare node:http ${text(figures.bare)}`);
}
await simulator.close();
agent.destroy();
