import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fundedCustomer } from '../test/helpers/fixtures.js';
import { collectFrom } from '../test/helpers/subscriptions.js';
import { graphql, MODEL, pause, postJson, within, wsClientOf, type SoakTarget } from './soak-gateway.js';
import { failureOutcome, graphqlOutcome, type Tally } from './soak-tally.js';

// Hostile bytes from both sides: an upstream that sends what it must never
// send (d), and clients whose requests are built to break parsers, storage
// and bounds (e). Every completion must still end as documented, and every
// bad request be refused as the client's fault.

interface UpstreamCase {
  name: string;
  directive: string;
  maxTokens?: number;
  /** The final status as finalOf() spells it. */
  expected: string;
}

const upstreamCases: UpstreamCase[] = [
  { name: 'endless', directive: '[sim:endless,itl=2]', maxTokens: 20, expected: 'SUCCEEDED length' },
  { name: 'hostile=toolIndex', directive: '[sim:hostile=toolIndex]', expected: 'FAILED UPSTREAM_MALFORMED' },
  { name: 'hostile=notString', directive: '[sim:hostile=notString]', expected: 'FAILED UPSTREAM_MALFORMED' },
  { name: 'hostile=hugeEvent', directive: '[sim:hostile=hugeEvent]', expected: 'FAILED UPSTREAM_MALFORMED' },
  { name: 'hostile=nul', directive: '[sim:hostile=nul,itl=2]', expected: 'SUCCEEDED' },
  { name: 'breakBeforeDone', directive: '[sim:breakBeforeDone,words=10,itl=2]', expected: 'SUCCEEDED' },
];

interface Final {
  status: string;
  finishReason: string | null;
  error: { code: string } | null;
}

/** A settled completion as an outcome: the status, then the error code of a failure or "length" of a cut. */
function finalOf(completion: Final): string {
  const detail = completion.status === 'FAILED' ? completion.error?.code : completion.finishReason === 'length' ? 'length' : undefined;
  return detail ? `${completion.status} ${detail}` : completion.status;
}

/** Past UPSTREAM_IDLE_TIMEOUT_MS (5 s), which ends any completion whose upstream went silent. */
const STREAM_TIMEOUT_MS = 15_000;
const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];

/**
 * (d) One completion after another, each asking the fake upstream for one
 * of the hostile behaviours: started over HTTP, followed over graphql-ws to
 * its end, then its final status read with `completion(id)`. A stream
 * that breaks is recorded too, but the completion's status is what counts.
 */
export async function untrustedUpstream(target: SoakTarget, tally: Tally, signal: AbortSignal): Promise<void> {
  const outcomes = tally.client(
    'd. untrusted upstream (final status)',
    upstreamCases.map((c) => `${c.name}: ${c.expected}`),
    'wrong final status',
  );
  const { key } = await fundedCustomer(target, '10.00');
  const client = wsClientOf(target, key, { persistent: true, onServerClose: (code) => outcomes.record(`socket closed ${code}`) });
  const finalStatus = async (id: string): Promise<string> => {
    // Polled without the phase's signal: a completion still running after the phase is waited for as well.
    for (const deadline = Date.now() + STREAM_TIMEOUT_MS; ; await sleep(250)) {
      const read = await graphql<{ completion: Final | null }>(target, { query: 'query($id: ID!) { completion(id: $id) { status finishReason error { code } } }', variables: { id } }, key);
      const final = read.body.data?.completion;
      if (!final) return graphqlOutcome(read.status, read.body);
      if (TERMINAL.includes(final.status) || Date.now() > deadline) return finalOf(final);
    }
  };
  try {
    for (let i = 0; !signal.aborted; i++) {
      const test = upstreamCases[i % upstreamCases.length] as UpstreamCase;
      const input = { model: MODEL, maxTokens: test.maxTokens ?? 64, messages: [{ role: 'user', content: `untrusted ${test.directive}` }] };
      const start = await graphql<{ startCompletion: { id: string } }>(target, { query: 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }', variables: { input } }, key);
      const id = start.body.data?.startCompletion.id;
      if (!id) {
        outcomes.record(`${test.name}: start ${graphqlOutcome(start.status, start.body)}`, JSON.stringify(start.body));
        continue;
      }
      const streamed = await within(
        collectFrom(client, 'subscription($id: ID!) { completionStream(id: $id) { index done } }', { id }).catch((error: unknown) => failureOutcome(error)),
        STREAM_TIMEOUT_MS,
      );
      if (streamed === 'timeout') outcomes.record(`${test.name}: stream did not end in ${STREAM_TIMEOUT_MS / 1000} s`, id);
      else if (typeof streamed === 'string') outcomes.record(`${test.name}: stream ${streamed}`, id);
      else if (streamed.errors.length > 0) outcomes.record(`${test.name}: stream ${graphqlOutcome(200, streamed)}`, JSON.stringify(streamed.errors));
      outcomes.record(`${test.name}: ${await finalStatus(id)}`, id);
    }
  } finally {
    await client.dispose();
  }
}

/** A JSON object nested this deep: JSON.stringify would overflow the stack building it, so it is written as text. */
const DEPTH = 20_000;
const deepJson = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const deepTools = `[{"type":"function","function":{"name":"f","parameters":${deepJson}}}]`;
const hugeId = 'x'.repeat(900_000);
const nulText = 'nul \u0000 here';

interface InputCase {
  name: string;
  /** The outcome: "HTTP 400" for REST, the GraphQL error code (or "ok") for GraphQL. */
  send(): Promise<string>;
  accepts(outcome: string): boolean;
}

const clientFault = (outcome: string) => /^HTTP 4\d\d$/.test(outcome);
const badInput = (outcome: string) => outcome === 'BAD_USER_INPUT';

/**
 * (e) Requests no parser, store or bound may choke on, over REST and
 * GraphQL, round after round: each must be refused as the client's fault
 * (4xx over REST, BAD_USER_INPUT over GraphQL).
 */
export async function hostileInput(target: SoakTarget, tally: Tally, signal: AbortSignal): Promise<void> {
  const { key } = await fundedCustomer(target, '10.00');
  const other = await fundedCustomer(target, '1.00');
  const ledger = await graphql<{ viewer: { ledger: { edges: { cursor: string }[] } } }>(target, { query: '{ viewer { ledger(first: 1) { edges { cursor } } } }' }, key);
  const foreignCursor = ledger.body.data?.viewer.ledger.edges[0]?.cursor;
  if (!foreignCursor) throw new Error(`no ledger cursor: ${JSON.stringify(ledger.body)}`);

  const rest = async (body: string, headers: Record<string, string> = {}) =>
    `HTTP ${(await postJson(`${target.baseUrl}/v1/chat/completions`, body, { authorization: `Bearer ${key}`, ...headers })).status}`;
  const restBody = (extra: string, messages: unknown[] = [{ role: 'user', content: 'hi' }]) => `{"model":"${MODEL}","messages":${JSON.stringify(messages)}${extra}}`;
  const start = 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }';
  const viaGraphql = async (body: string, token = key) => {
    const answer = await graphql(target, body, token);
    return graphqlOutcome(answer.status, answer.body);
  };
  const startBody = (input: string) => `{"query":${JSON.stringify(start)},"variables":{"input":${input}}}`;
  // A tool answer whose call id alone is 900 KB, as each face spells it.
  const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } };
  const hugeIdRest = [{ role: 'user', content: 'call f' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: hugeId, content: '42' }];
  const hugeIdGraphql = [{ role: 'user', content: 'call f' }, { role: 'assistant', toolCalls: [call] }, { role: 'tool', toolCallId: hugeId, content: '42' }];
  const short = (content: string) => [{ role: 'user', content: `${content} [sim:words=3,itl=1]` }];

  const cases: InputCase[] = [
    // Message text is cleaned of U+0000 and answered; other fields holding it are refused.
    { name: 'REST U+0000 in user', send: () => rest(restBody(`,"user":${JSON.stringify(nulText)}`)), accepts: clientFault },
    { name: `REST tools nested ${DEPTH} deep`, send: () => rest(restBody(`,"tools":${deepTools}`)), accepts: clientFault },
    { name: 'REST 900 KB tool_call_id', send: () => rest(restBody('', hugeIdRest)), accepts: clientFault },
    {
      name: 'REST Idempotency-Key reused with another body',
      send: async () => {
        const idempotency = { 'idempotency-key': randomUUID() };
        const first = await rest(restBody('', short('first')), idempotency);
        return first === 'HTTP 200' ? rest(restBody('', short('second')), idempotency) : `first answered ${first}`;
      },
      accepts: (outcome) => outcome === 'HTTP 409',
    },
    { name: 'GraphQL U+0000 in user', send: () => viaGraphql(JSON.stringify({ query: start, variables: { input: { model: MODEL, messages: [{ role: 'user', content: 'hi' }], user: nulText } } })), accepts: badInput },
    { name: `GraphQL tools nested ${DEPTH} deep`, send: () => viaGraphql(startBody(`{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"tools":${deepTools}}`)), accepts: badInput },
    {
      name: 'GraphQL 900 KB toolCallId',
      send: () => viaGraphql(JSON.stringify({ query: start, variables: { input: { model: MODEL, messages: hugeIdGraphql } } })),
      accepts: badInput,
    },
    {
      name: 'GraphQL idempotencyKey reused with another input',
      send: async () => {
        const idempotencyKey = randomUUID();
        const input = (content: string) => ({ query: start, variables: { input: { model: MODEL, messages: short(content), idempotencyKey } } });
        const first = await viaGraphql(JSON.stringify(input('first')));
        return first === 'ok' ? viaGraphql(JSON.stringify(input('second'))) : `first answered ${first}`;
      },
      accepts: badInput,
    },
    {
      name: 'GraphQL ledger cursor of another account',
      send: () => viaGraphql(JSON.stringify({ query: 'query($after: String) { viewer { ledger(first: 1, after: $after) { totalCount } } }', variables: { after: foreignCursor } }), other.key),
      accepts: badInput,
    },
  ];
  const outcomes = tally.client('e. hostile input', (label) => {
    const test = cases.find((c) => label.startsWith(`${c.name}: `));
    return test !== undefined && test.accepts(label.slice(test.name.length + 2));
  });
  while (!signal.aborted) {
    for (const test of cases) {
      const outcome = await test.send().catch((error: unknown) => failureOutcome(error));
      outcomes.record(`${test.name}: ${outcome}`);
    }
    await pause(250, signal);
  }
}
