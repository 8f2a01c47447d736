import { SIMULATOR_FAULTS, type SimulatorFault, type SimulatorScript } from './script.js';

// `[sim:…]` directives in the last user message let a human pick simulator
// behaviour from GraphiQL, where the programmatic enqueue() is out of reach.
// The syntax is documented at the top of simulator.ts.

const DIRECTIVE = /\[sim:([^\]]*)\]/g;

export class DirectiveError extends Error {}

const FLAGS = {
  noUsage: 'noUsage',
  finishOnLastContent: 'finishOnLastContent',
  omitCreated: 'omitCreated',
  endless: 'endless',
  breakBeforeDone: 'breakBeforeDone',
} as const satisfies Record<string, keyof SimulatorScript>;

/**
 * Chunks an upstream must never send, by name, for `hostile=…`: each is a
 * class of defect the gateway has to survive.
 */
const HOSTILE_CHUNK = (delta: unknown) =>
  JSON.stringify({ id: 'chatcmpl-hostile', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });
const HOSTILE: Record<string, Pick<SimulatorScript, 'tokens' | 'rawChunks'>> = {
  toolIndex: { rawChunks: [HOSTILE_CHUNK({ tool_calls: [{ index: 50_000_000, id: 'call_x', type: 'function', function: { name: 'f', arguments: '{}' } }] })] },
  notString: { rawChunks: [HOSTILE_CHUNK({ content: { text: 'not a string' } })] },
  hugeEvent: { rawChunks: [`"${'h'.repeat(2 * 1024 * 1024)}`] },
  nul: { tokens: ['text ', 'with\u0000', ' a ', 'NUL'] },
};

const NUMBERS = {
  after: 'afterTokens',
  retryAfter: 'retryAfterSeconds',
  words: 'words',
  ttft: 'ttftMs',
  itl: 'interTokenMs',
  cached: 'cachedPromptTokens',
  cacheWrite: 'cacheWriteTokens',
} as const satisfies Record<string, keyof SimulatorScript>;

function isFault(value: string): value is SimulatorFault {
  return (SIMULATOR_FAULTS as readonly string[]).includes(value);
}

function applyItem(script: SimulatorScript, item: string): void {
  const eq = item.indexOf('=');
  const key = eq === -1 ? item : item.slice(0, eq).trim();
  const value = eq === -1 ? undefined : item.slice(eq + 1).trim();

  if (Object.hasOwn(FLAGS, key)) {
    if (value !== undefined) throw new DirectiveError(`Simulator directive '${key}' is a flag and takes no value.`);
    script[FLAGS[key as keyof typeof FLAGS]] = true;
    return;
  }
  if (value === undefined || value === '') {
    throw new DirectiveError(
      `Unknown simulator directive '${item}'. Use fault=…, after=N, retryAfter=N, words=N, ttft=MS, itl=MS, cached=N, cacheWrite=N, ` +
        'finish=REASON, hostile=NAME, noUsage, finishOnLastContent, omitCreated, endless or breakBeforeDone.',
    );
  }
  if (Object.hasOwn(NUMBERS, key)) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new DirectiveError(`Simulator directive '${key}' needs a whole number ≥ 0, got '${value}'.`);
    }
    script[NUMBERS[key as keyof typeof NUMBERS]] = n;
    return;
  }
  if (key === 'fault') {
    if (!isFault(value)) {
      throw new DirectiveError(`Unknown simulator fault '${value}'. Use one of: ${SIMULATOR_FAULTS.join(', ')}.`);
    }
    script.fault = value;
    return;
  }
  if (key === 'finish') {
    script.finishReason = value;
    return;
  }
  if (key === 'hostile') {
    const preset = HOSTILE[value];
    if (!preset) throw new DirectiveError(`Unknown hostile upstream '${value}'. Use one of: ${Object.keys(HOSTILE).join(', ')}.`);
    Object.assign(script, preset);
    return;
  }
  throw new DirectiveError(`Unknown simulator directive '${key}'.`);
}

/**
 * Reads every `[sim:…]` directive in `text`. Returns the script they describe
 * and the text without them (what the default answer is derived from).
 * Throws DirectiveError on anything it does not understand, so a typo is
 * reported instead of silently ignored.
 */
export function parseDirectives(text: string): { script: SimulatorScript; text: string } {
  const script: SimulatorScript = {};
  if (!text.includes('[sim:')) return { script, text };
  const rest = text.replace(DIRECTIVE, (_match, body: string) => {
    for (const item of body.split(',')) {
      const trimmed = item.trim();
      if (trimmed !== '') applyItem(script, trimmed);
    }
    return ' ';
  });
  return { script, text: rest.replace(/\s+/g, ' ').trim() };
}
