import './node-version.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

// The process entry: environment → config → app; signals → graceful stop.
let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const logger = createLogger(config);
// A promise nobody awaited that fails (say, a Redis command during an
// outage) must not stop a server that holds other people's streams: it is
// logged as the bug it is. An uncaught exception still stops the process.
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
const app = await buildApp(config, { logger });
const url = await app.start();

logger.info({ url: `${url}/graphql`, database: config.database.kind, upstream: config.upstream.kind }, 'TokenHub gateway ready');
// Printed to the terminal (not the log stream) so a generated token is shown
// once to the operator and never stored in log files.
const banner = [
  '',
  `  GraphQL, GraphiQL, SSE and WebSocket: ${url}/graphql`,
  `  Playground: ${url}/    OpenAI-compatible REST: ${url}/v1`,
  config.adminToken ? '  Admin token: from ADMIN_TOKEN' : `  Admin token (generated for this run): ${app.adminToken}`,
  config.upstream.kind === 'simulator'
    ? '  UPSTREAM_API_KEY is not set: completions come from the BUILT-IN SIMULATOR, not from Claude.'
    : `  Upstream: ${config.upstream.baseUrl}`,
  '',
];
process.stderr.write(`${banner.join('\n')}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  });
}
