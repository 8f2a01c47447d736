import { setTimeout as sleep } from 'node:timers/promises';
import { stopOnSignals } from '../../bench/stop-on-signals.js';

// A benchmark entry point in miniature, for stop-on-signals.test.ts: its
// cleanup takes a while, as stopping a gateway does, and says when it ends.
stopOnSignals(
  async () => {
    await sleep(500);
    process.stdout.write('cleaned\n');
  },
  (message) => process.stdout.write(`${message}\n`),
);
setInterval(() => undefined, 1_000);
process.stdout.write('ready\n');
