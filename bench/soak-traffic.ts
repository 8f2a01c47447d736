import { APIError } from 'openai';
import { openaiClient } from '../test/helpers/openai-client.js';
import { collectFrom } from '../test/helpers/subscriptions.js';
import { graphql, MODEL, pause, wsClientOf, type SoakTarget } from './soak-gateway.js';
import { failureOutcome, graphqlOutcome, type Tally } from './soak-tally.js';

// The traffic a healthy gateway serves all along, and whose service the
// hostile clients must not degrade: streaming completions over REST (the
// openai SDK) and GraphQL (graphql-ws), each loop starting the next
// completion when the previous ends, and a probe that times a cheap query
// of an account nobody else uses.

const WORDS = 40;
const PROMPT = `Soak [sim:words=${WORDS},itl=5]`;
const PROBE_EVERY_MS = 250;

/** One timed request: when it started (ms since the epoch) and how long it took. */
export interface Timing {
  at: number;
  ms: number;
}

export interface NormalSamples {
  rest: Timing[];
  graphql: Timing[];
  probe: Timing[];
}

function openaiOutcome(error: unknown): string {
  if (error instanceof APIError) return error.status ? `HTTP ${error.status}` : `stream error ${String(error.code)}`;
  return failureOutcome(error);
}

async function restLoop(target: SoakTarget, apiKey: string, tally: Tally, samples: Timing[], signal: AbortSignal): Promise<void> {
  const client = openaiClient({ url: target.baseUrl }, apiKey);
  const outcomes = tally.client('normal: REST stream (openai SDK)', ['completed'], 'normal traffic failed');
  while (!signal.aborted) {
    const at = Date.now();
    try {
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: PROMPT }],
        max_tokens: WORDS + 24,
        stream: true,
        stream_options: { include_usage: true },
      });
      let completionTokens: number | undefined;
      for await (const chunk of stream) completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
      outcomes.record(completionTokens === WORDS ? 'completed' : `usage says ${String(completionTokens)} tokens`);
    } catch (error) {
      outcomes.record(openaiOutcome(error), String(error));
    }
    samples.push({ at, ms: Date.now() - at });
  }
}

const streamCompletion = `subscription($input: CompletionInput!) {
  streamCompletion(input: $input) { index done completion { status usage { completionTokens } error { code } } }
}`;

interface StreamEvent {
  streamCompletion: { done: boolean; completion: { status: string; usage: { completionTokens: number } | null; error: { code: string } | null } | null };
}

async function graphqlLoop(target: SoakTarget, apiKey: string, tally: Tally, samples: Timing[], signal: AbortSignal): Promise<void> {
  const outcomes = tally.client('normal: GraphQL streamCompletion (graphql-ws)', ['completed'], 'normal traffic failed');
  const client = wsClientOf(target, apiKey, { persistent: true, onServerClose: (code) => outcomes.record(`socket closed ${code}`) });
  const input = { model: MODEL, maxTokens: WORDS + 24, messages: [{ role: 'user', content: PROMPT }] };
  try {
    while (!signal.aborted) {
      const at = Date.now();
      try {
        const { data, errors } = await collectFrom<StreamEvent>(client, streamCompletion, { input });
        const last = data.at(-1)?.streamCompletion;
        if (errors.length > 0) outcomes.record(graphqlOutcome(200, { errors }), JSON.stringify(errors));
        else if (!last?.done) outcomes.record('ended without the last event');
        else if (last.completion?.status !== 'SUCCEEDED') outcomes.record(`${String(last.completion?.status)} ${last.completion?.error?.code ?? ''}`.trim());
        else outcomes.record(last.completion.usage?.completionTokens === WORDS ? 'completed' : `usage says ${String(last.completion.usage?.completionTokens)} tokens`);
      } catch (error) {
        outcomes.record(failureOutcome(error), String(error));
      }
      samples.push({ at, ms: Date.now() - at });
    }
  } finally {
    await client.dispose();
  }
}

/** Every PROBE_EVERY_MS (or right after the previous answer, if it took longer), `viewer { balance }`. */
async function probeLoop(target: SoakTarget, apiKey: string, tally: Tally, samples: Timing[], signal: AbortSignal): Promise<void> {
  const outcomes = tally.client('normal: probe { viewer { balance } }', ['ok'], 'normal traffic failed');
  while (!signal.aborted) {
    const at = Date.now();
    try {
      const answer = await graphql(target, { query: '{ viewer { balance } }' }, apiKey);
      outcomes.record(graphqlOutcome(answer.status, answer.body), JSON.stringify(answer.body));
    } catch (error) {
      outcomes.record(failureOutcome(error), String(error));
    }
    const ms = Date.now() - at;
    samples.push({ at, ms });
    await pause(PROBE_EVERY_MS - ms, signal);
  }
}

/**
 * Runs the normal traffic until `signal` aborts; resolves once every loop
 * has finished its last completion. Keys: 3 for REST, 2 for GraphQL, 1 for the probe.
 */
export async function runNormalTraffic(target: SoakTarget, keys: readonly string[], tally: Tally, samples: NormalSamples, signal: AbortSignal): Promise<void> {
  const [rest1, rest2, rest3, graphql1, graphql2, probe] = keys as [string, string, string, string, string, string];
  await Promise.all([
    ...[rest1, rest2, rest3].map((key) => restLoop(target, key, tally, samples.rest, signal)),
    ...[graphql1, graphql2].map((key) => graphqlLoop(target, key, tally, samples.graphql, signal)),
    probeLoop(target, probe, tally, samples.probe, signal),
  ]);
}

/** How many keys runNormalTraffic needs. */
export const NORMAL_KEYS = 6;
