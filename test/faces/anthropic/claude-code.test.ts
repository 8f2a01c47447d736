import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../src/simulator/simulator.js';
import { installClaudeCode, runClaudeCode } from '../../helpers/claude-code.js';
import { completionFields, startServerWithSimulator } from '../../helpers/completions.js';
import { fundedCustomer } from '../../helpers/fixtures.js';
import { gqlOk } from '../../helpers/graphql.js';
import { expectLedgerInvariant } from '../../helpers/invariants.js';
import type { TestServer } from '../../helpers/server.js';

// Claude Code 2.1.328 run as a user runs it through the gateway:
// ANTHROPIC_BASE_URL at the server, a th- key, ANTHROPIC_MODEL, and nothing
// else (STACK.md). The upstream is a simulator this file owns, so each
// test decides what Claude Code's requests are answered with.

let server: TestServer;
let simulator: Simulator;
let claude: string;
beforeAll(async () => {
  [claude, { server, simulator }] = await Promise.all([installClaudeCode(), startServerWithSimulator({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '20000' })]);
}, 600_000);
afterAll(() => server?.stop());

const model = 'claude-sonnet-4-6';
const environment = (key: string, auth: 'ANTHROPIC_AUTH_TOKEN' | 'ANTHROPIC_API_KEY' = 'ANTHROPIC_AUTH_TOKEN') => ({
  ANTHROPIC_BASE_URL: server.url,
  [auth]: key,
  ANTHROPIC_MODEL: model,
});

/** The account's completions (newest first) and charges, as GraphQL shows them to the key. */
async function account(key: string) {
  const data = await gqlOk(
    server,
    `{ viewer { balance completions(first: 10) { edges { node { ${completionFields} maxTokens } } }
       ledger(first: 10) { edges { node { amount kind completion { id } } } } } }`,
    { token: key },
  );
  return {
    completions: data.viewer.completions.edges.map((e: any) => e.node),
    charges: data.viewer.ledger.edges.map((e: any) => e.node).filter((n: any) => n.kind === 'CHARGE'),
  };
}

const messagesRequests = (since: number) => server.logs.slice(since).filter((line) => line.includes('"path":"/v1/messages"')).length;

describe('Claude Code through the gateway', () => {
  it('answers `claude -p` from the upstream and charges the turn to the key, with the usage Claude Code reports', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ text: 'Hello from the gateway.', cachedPromptTokens: 15_000, cacheWriteTokens: 1_000 });
    const result = await runClaudeCode(claude, ['-p', 'Say hello', '--output-format', 'json'], environment(key));
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ is_error: false, result: 'Hello from the gateway.' });

    const { completions, charges } = await account(key);
    expect(completions).toHaveLength(1);
    const [turn] = completions;
    expect(turn).toMatchObject({ status: 'SUCCEEDED', content: 'Hello from the gateway.', model: { id: 'anthropic/claude-sonnet-4-6' } });
    expect(charges).toEqual([{ amount: `-${turn.cost}`, kind: 'CHARGE', completion: { id: turn.id } }]);
    expect(output.usage).toMatchObject({
      input_tokens: turn.usage.promptTokens - 16_000,
      cache_read_input_tokens: 15_000,
      cache_creation_input_tokens: 1_000,
      output_tokens: turn.usage.completionTokens,
    });
    // Claude Code prices the usage at Anthropic's list prices, which are the catalogue's defaults.
    expect(output.total_cost_usd).toBeCloseTo(Number(turn.cost), 9);

    const sent = simulator.requests.at(-1)!.body as any;
    expect(sent.messages[0].role).toBe('system');
    expect(sent.messages[0].content.some((part: any) => part.cache_control?.type === 'ephemeral')).toBe(true);
    expect(sent.tools.map((t: any) => t.function.name)).toContain('Bash');
    await expectLedgerInvariant(server);
  }, 90_000);

  it('runs a tool the upstream asked for and sends its result back: both turns translated and charged', async () => {
    const { key } = await fundedCustomer(server, '5');
    const upstreamBefore = simulator.requests.length;
    simulator.enqueue({ text: 'I will run it.', toolCalls: [{ name: 'Bash', arguments: { command: 'echo hi', description: 'say hi' } }] });
    simulator.enqueue({ text: 'The shell said hi.' });
    const result = await runClaudeCode(claude, ['-p', 'Run echo hi', '--allowedTools', 'Bash'], environment(key, 'ANTHROPIC_API_KEY'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('The shell said hi.');

    const upstream = simulator.requests.slice(upstreamBefore).map((r) => r.body as any);
    expect(upstream).toHaveLength(2);
    const [first, second] = upstream;
    const call = second.messages.find((m: any) => m.role === 'assistant' && m.tool_calls);
    expect(call.tool_calls).toEqual([{ id: expect.any(String), type: 'function', function: { name: 'Bash', arguments: JSON.stringify({ command: 'echo hi', description: 'say hi' }) } }]);
    const toolMessage = second.messages.find((m: any) => m.role === 'tool');
    expect(toolMessage.tool_call_id).toBe(call.tool_calls[0].id);
    const toolText = typeof toolMessage.content === 'string' ? toolMessage.content : toolMessage.content.map((p: any) => p.text).join('');
    expect(toolText.startsWith('hi\n')).toBe(true);
    expect(second.messages.length).toBeGreaterThan(first.messages.length);

    const { completions, charges } = await account(key);
    expect(completions.map((c: any) => c.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(completions[1]).toMatchObject({ finishReason: 'tool_calls', toolCalls: [{ function: { name: 'Bash' } }] });
    expect(charges.map((c: any) => c.completion.id).sort()).toEqual(completions.map((c: any) => c.id).sort());
    await expectLedgerInvariant(server);
  }, 90_000);

  it('recovers from an upstream that fails mid-stream through its non-streaming retry: the failed turn costs nothing', async () => {
    const { key } = await fundedCustomer(server, '5');
    simulator.enqueue({ tokens: ['Half', ' an', ' answer'], fault: 'reset', afterTokens: 2 });
    simulator.enqueue({ text: 'A whole answer.' });
    const result = await runClaudeCode(claude, ['-p', 'Say hello'], environment(key));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('A whole answer.');
    const { completions, charges } = await account(key);
    expect(completions.map((c: any) => c.status)).toEqual(['SUCCEEDED', 'FAILED']);
    expect(completions[1]).toMatchObject({ cost: '0.00', error: { code: 'UPSTREAM_NETWORK' } });
    expect(charges.map((c: any) => c.completion.id)).toEqual([completions[0].id]);
    await expectLedgerInvariant(server);
  }, 90_000);

  it('runs on an account with a few cents, its max_tokens lowered to what the balance holds', async () => {
    const { key } = await fundedCustomer(server, '0.35');
    simulator.enqueue({ text: 'Cheap hello.' });
    const result = await runClaudeCode(claude, ['-p', 'Say hello'], environment(key));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('Cheap hello.');
    const [turn] = (await account(key)).completions;
    expect(turn.maxTokens).toBeGreaterThanOrEqual(1024);
    expect(turn.maxTokens).toBeLessThan(32_000);
    expect((simulator.requests.at(-1)!.body as any).max_tokens).toBe(turn.maxTokens);
    await expectLedgerInvariant(server);
  }, 90_000);

  it('stops at once on a 402 when the balance cannot hold even the least max_tokens: one request, no retries', async () => {
    const { key } = await fundedCustomer(server, '0.01');
    const since = server.logs.length;
    const result = await runClaudeCode(claude, ['-p', 'Say hello'], environment(key));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('402');
    expect(messagesRequests(since)).toBe(1);
    expect((await account(key)).completions).toEqual([]);
  }, 90_000);

  it('stops at once on a 401 for a wrong key instead of retrying for a minute', async () => {
    const since = server.logs.length;
    const result = await runClaudeCode(claude, ['-p', 'Say hello'], environment('th-0000000000000000000000000000000000000000'));
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(20_000);
    expect(messagesRequests(since)).toBe(1);
  }, 90_000);
});
