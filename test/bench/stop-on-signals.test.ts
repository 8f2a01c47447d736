import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

// Ctrl-C during `npm run bench` or `npm run soak` must still stop the
// children and drop the database, however many times it arrives.

const entry = fileURLToPath(new URL('./slow-cleanup.ts', import.meta.url));

describe('a benchmark run stopped by a signal', () => {
  it('finishes its cleanup and exits 130 when a second SIGINT arrives while it cleans up', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
      }),
    );
    const exited = once(child, 'exit');
    await ready;
    child.kill('SIGINT');
    await sleep(100);
    child.kill('SIGINT');
    const [code, signal] = await exited;
    expect({ code, signal, cleaned: output.includes('cleaned') }).toEqual({ code: 130, signal: null, cleaned: true });
  });
});
