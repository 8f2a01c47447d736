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
 * Which process sits between a client and the fake upstream: its CPU and RSS
 * are the arm's (none for direct).
 */
export type ServerName = 'none' | 'proxy' | 'portkey' | 'gateway';

export interface ArmSpec {
  /** Baselines (direct, proxy), a peer gateway (Portkey), or a face of this gateway (held to the targets). */
  kind: 'baseline' | 'peer' | 'face';
  server: ServerName;
  /** Start the completion first, then subscribe to it: the time to the start's answer is reported too. */
  twoStep: boolean;
  describe: string;
}

/**
 * The arms, in report order. To add one: an entry here, its client in
 * clients/arm-clients.ts (the compiler asks for it), and, if it can be
 * missing, a check in run.ts that drops it with a note.
 */
export const armSpecs = {
  direct: { kind: 'baseline', server: 'none', twoStep: false, describe: 'the fake upstream alone (OpenAI SSE)' },
  proxy: { kind: 'baseline', server: 'proxy', twoStep: false, describe: 'a thin pass-through proxy in plain Node (bench/thin-proxy.ts)' },
  portkey: { kind: 'peer', server: 'portkey', twoStep: false, describe: 'the Portkey AI gateway 1.15.2, OpenAI provider, custom host = the fake upstream' },
  rest: { kind: 'face', server: 'gateway', twoStep: false, describe: 'POST /v1/chat/completions, stream: true, include_usage' },
  stream: { kind: 'face', server: 'gateway', twoStep: false, describe: 'streamCompletion over graphql-ws' },
  '2step': { kind: 'face', server: 'gateway', twoStep: true, describe: 'startCompletion over HTTP, then completionStream over graphql-ws' },
  'stream-sse': { kind: 'face', server: 'gateway', twoStep: false, describe: 'streamCompletion over SSE (graphql-sse)' },
  '2step-sse': { kind: 'face', server: 'gateway', twoStep: true, describe: 'startCompletion over HTTP, then completionStream over SSE' },
  anthropic: { kind: 'face', server: 'gateway', twoStep: false, describe: 'POST /v1/messages, stream: true (only when the gateway serves it)' },
} as const satisfies Record<string, ArmSpec>;

export type ArmName = keyof typeof armSpecs;
export const arms = Object.keys(armSpecs) as ArmName[];
export const specOf = (arm: ArmName): ArmSpec => armSpecs[arm];
export const isFace = (arm: ArmName): boolean => specOf(arm).kind === 'face';

/** Names of earlier versions of the bench, still accepted by --arms. */
export const armAliases: Record<string, ArmName> = { 'gateway-ws': '2step', 'stream-ws': 'stream', 'gateway-sse': '2step-sse' };

/** `--arms a,b,…` with aliases resolved; throws on an unknown name. */
export function parseArms(list: string): ArmName[] {
  const out: ArmName[] = [];
  for (const raw of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const name = (armAliases[raw] ?? raw) as ArmName;
    if (!(name in armSpecs)) throw new Error(`unknown arm ${JSON.stringify(raw)}; the arms are ${arms.join(', ')}`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

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
