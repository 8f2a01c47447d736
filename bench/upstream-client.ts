import { Agent, request } from 'node:http';
import OpenAI from 'openai';
import { createUpstreamClient } from '../src/upstream/client.js';
import { parseChunk, toUpstreamChunk } from '../src/upstream/openai-mapping.js';
import { SseDataDecoder } from '../src/upstream/sse-decoder.js';
import { startSimulator } from '../src/simulator/simulator.js';
import type { UpstreamRequest } from '../src/domain/completions/upstream.js';

// `npm run bench:upstream-client`: CPU of the gateway's upstream client
// (src/upstream/client.ts) against its floor, a bare node:http reader with
// the same SSE decoder and chunk parsing, on 50 concurrent streams from the
// simulator in this process (so every figure includes the simulator's
// share). Per token on streams of 256 tokens; per request on streams of
// one token, where the openai SDK (its own fetch) runs too, as the client
// the gateway used before. Rounds alternate.

const STREAMS = 50;
const ROUNDS = 3;
const simulator = await startSimulator();
const client = createUpstreamClient({ baseUrl: simulator.baseUrl, apiKey: 'bench', firstByteTimeoutMs: 10_000, idleTimeoutMs: 10_000 });
const agent = new Agent({ keepAlive: true });

const sdk = new OpenAI({ baseURL: simulator.baseUrl, apiKey: 'bench', maxRetries: 0 });
let words = 256;

const requestOf = (interTokenMs: number): UpstreamRequest => ({
  model: 'anthropic/claude-haiku-4-5',
  maxTokens: 300,
  messages: [{ role: 'user', content: `Benchmark [sim:words=${words},ttft=0,itl=${interTokenMs}]` }],
});

async function viaSdk(interTokenMs: number): Promise<number> {
  const stream = await sdk.chat.completions.create({
    model: 'anthropic/claude-haiku-4-5',
    max_tokens: 300,
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: `Benchmark [sim:words=${words},ttft=0,itl=${interTokenMs}]` }],
  });
  let tokens = 0;
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) tokens += 1;
  return tokens;
}

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

/** CPU µs per token and per stream of `STREAMS` concurrent streams. */
async function cpuOf(run: (interTokenMs: number) => Promise<number>, interTokenMs: number): Promise<{ perToken: number; perStream: number }> {
  const before = process.cpuUsage();
  const counts = await Promise.all(Array.from({ length: STREAMS }, () => run(interTokenMs)));
  const used = process.cpuUsage(before);
  return { perToken: (used.user + used.system) / counts.reduce((a, b) => a + b, 0), perStream: (used.user + used.system) / STREAMS };
}

const text = (values: number[] = []) => values.map((v) => v.toFixed(1)).join(' / ');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

for (const interTokenMs of [10, 0]) {
  const figures: Record<string, number[]> = { client: [], bare: [] };
  // The first round warms both up.
  for (let round = 0; round <= ROUNDS; round++) {
    const client = await cpuOf(viaClient, interTokenMs);
    const bare = await cpuOf(viaBareHttp, interTokenMs);
    if (round === 0) continue;
    figures.client?.push(client.perToken);
    figures.bare?.push(bare.perToken);
  }
  console.log(`${interTokenMs} ms between tokens: client ${text(figures.client)} µs CPU per token; bare node:http ${text(figures.bare)}`);
}

words = 1;
const perRequest: Record<'client' | 'sdk' | 'bare', number[]> = { client: [], sdk: [], bare: [] };
for (let round = 0; round <= ROUNDS * 4; round++) {
  const figures = { client: await cpuOf(viaClient, 0), sdk: await cpuOf(viaSdk, 0), bare: await cpuOf(viaBareHttp, 0) };
  if (round === 0) continue;
  for (const arm of ['client', 'sdk', 'bare'] as const) perRequest[arm].push(figures[arm].perStream);
}
const [ours, viaOpenai, bare] = [median(perRequest.client), median(perRequest.sdk), median(perRequest.bare)];
console.log(`one-token streams, µs CPU per request (median of ${ROUNDS * 4}): client ${ours.toFixed(0)}, openai SDK ${viaOpenai.toFixed(0)}, bare node:http ${bare.toFixed(0)}`);
console.log(`client / bare = ${(ours / bare).toFixed(2)}, openai SDK / bare = ${(viaOpenai / bare).toFixed(2)}`);
await simulator.close();
agent.destroy();
