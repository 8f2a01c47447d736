import pino from 'pino';
import type { Config } from './config.js';

export type Logger = pino.Logger;

// Secrets must never reach a log line: these paths are censored wherever they
// appear, and no code logs request bodies or headers wholesale.
const redact = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'adminToken',
  'connectionParams',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'tokenhub-gateway' },
      redact: { paths: redact, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
