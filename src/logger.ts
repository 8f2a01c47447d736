import pino from 'pino';
import type { Config } from './config.js';

export type Logger = pino.Logger;

// Secrets must never reach a log line: these keys are censored at the top
// of a log object and one level down (pino paths do not match deeper), and no
// code logs request bodies, headers or configuration wholesale.
const secretKeys = ['authorization', 'cookie', 'secret', 'apiKey', 'adminToken', 'apiKeyPepper', 'pepper', 'password', 'connectionParams'];
const redact = [...secretKeys, ...secretKeys.map((key) => `*.${key}`), 'headers.authorization', '*.headers.authorization', 'headers.cookie', '*.headers.cookie'];

/** The error and what it wraps: its cause (or a GraphQLError's originalError), that one's… */
function causeChain(error: unknown): object[] {
  const chain: object[] = [];
  for (let e: unknown = error; e && typeof e === 'object' && !chain.includes(e); ) {
    chain.push(e);
    const wrapper = e as { cause?: unknown; originalError?: unknown };
    e = wrapper.cause ?? wrapper.originalError;
  }
  return chain;
}

const carriesQuery = (e: object): e is { query: unknown; params: unknown; message?: unknown } => 'query' in e && 'params' in e;

/**
 * A failed statement's error (drizzle's DrizzleQueryError, anywhere in the
 * chain) carries its parameters, which hold prompts and answers, and repeats
 * them in its message and so in its stack (a GraphQLError wrapping it copies
 * both); Postgres's own error may quote them too (detail, "invalid input
 * syntax …: <value>"). Such an error is logged as its name, the SQL text, the
 * SQLSTATE and its stack frames only. Every other error keeps pino's
 * standard serializer.
 */
export function serializeError(error: unknown): unknown {
  const chain = causeChain(error);
  const failed = chain.find(carriesQuery);
  if (!failed) return withoutObjects(pino.stdSerializers.err(error as Error));
  const { name = 'Error', message: ownMessage, stack = '' } = error as Partial<Error>;
  const query = String(failed.query);
  const message = `Failed query: ${query}`;
  // The frames follow the message the stack was captured with; without it in
  // view, anything may hold the parameters, so no frames at all.
  const header = [String(failed.message), `${name}: ${ownMessage}`].find((text) => stack.includes(text));
  const frames = header ? stack.slice(stack.indexOf(header) + header.length) : '';
  return {
    type: name,
    message,
    query,
    code: chain.map((e) => (e as { code?: unknown }).code).find((code) => typeof code === 'string'),
    stack: `${name}: ${message}${frames}`,
  };
}

/**
 * An error's own fields that are objects are libraries' handles, not facts
 * about the failure: pg-pool hangs the whole client (its connection
 * parameters, sockets, type tables) on an idle connection's error. Only
 * scalar fields stay, and the errors an AggregateError holds (pino has
 * serialised those, and folded any cause into the message and stack).
 */
function withoutObjects(serialized: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) {
    if (value === null || typeof value !== 'object' || key === 'aggregateErrors') kept[key] = value;
  }
  return kept;
}

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'tokenhub-gateway' },
      redact: { paths: redact, censor: '[redacted]' },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
