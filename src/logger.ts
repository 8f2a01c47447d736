import pino from 'pino';
import type { Config } from './config.js';

export type Logger = pino.Logger;

// Secrets must never reach a log line: these keys are censored at the top
// of a log object and one level down (pino paths do not match deeper), and no
// code logs request bodies, headers or configuration wholesale.
const secretKeys = ['authorization', 'cookie', 'secret', 'apiKey', 'adminToken', 'apiKeyPepper', 'pepper', 'password', 'connectionParams'];
const redact = [...secretKeys, ...secretKeys.map((key) => `*.${key}`), 'headers.authorization', '*.headers.authorization', 'headers.cookie', '*.headers.cookie'];

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
