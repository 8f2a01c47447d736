// What every arm of the benchmark runs: the two upstream profiles, the prompt
// that selects them, and how delivered tokens are counted.

export type ProfileName = 'latency' | 'throughput';

export interface Profile {
  name: ProfileName;
  /** Upstream delay before its first token. */
  ttftMs: number;
  /** Upstream delay between two tokens. */
  interTokenMs: number;
  /** Content tokens per response. */
  tokens: number;
}

export const profiles: Record<ProfileName, Profile> = {
  latency: { name: 'latency', ttftMs: 50, interTokenMs: 10, tokens: 256 },
  throughput: { name: 'throughput', ttftMs: 0, interTokenMs: 0, tokens: 256 },
};

/**
 * The arms: the upstream alone, a minimal pass-through proxy, and the
 * gateway through each of its client paths (start mutation then
 * completionStream over graphql-ws or SSE, and streamCompletion over
 * graphql-ws in one operation).
 */
export const arms = ['direct', 'proxy', 'gateway-ws', 'gateway-sse', 'stream-ws'] as const;
export type ArmName = (typeof arms)[number];
export const baselineArms: readonly ArmName[] = ['direct', 'proxy'];

export const BENCH_MODEL = 'claude-haiku-4-5';

/**
 * The last user message: the simulator reads its pace and length from the
 * `[sim:…]` directive, so every arm (direct, proxy, gateway) gets exactly
 * the same upstream behaviour from the same request.
 */
export function promptOf(profile: Profile): string {
  return `Benchmark [sim:words=${profile.tokens},ttft=${profile.ttftMs},itl=${profile.interTokenMs}]`;
}

/**
 * Upstream content tokens in a delta. The simulator's tokens are whole words
 * that carry the space before them (` ipsum`), and a coalesced delta is a
 * concatenation of whole tokens, so a delta holds one token per space, plus
 * one when it starts the text.
 */
export function tokensIn(delta: string): number {
  if (delta.length === 0) return 0;
  let tokens = delta.charCodeAt(0) === 32 ? 0 : 1;
  for (let i = delta.indexOf(' '); i !== -1; i = delta.indexOf(' ', i + 1)) tokens += 1;
  return tokens;
}

/** What a frontend asks of each event: the text, its place, and the outcome on the last one. */
export const eventFields = 'completionId index delta done completion { status cost usage { completionTokens } error { code message } }';

export const startMutation = 'mutation($input: CompletionInput!) { startCompletion(input: $input) { id } }';
export const streamSubscription = `subscription($id: ID!) { completionStream(id: $id) { ${eventFields} } }`;
export const startAndStreamSubscription = `subscription($input: CompletionInput!) { streamCompletion(input: $input) { ${eventFields} } }`;

export function completionInput(profile: Profile): Record<string, unknown> {
  return { model: BENCH_MODEL, maxTokens: profile.tokens + 64, messages: [{ role: 'user', content: promptOf(profile) }] };
}
