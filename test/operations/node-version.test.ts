import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

// The Node.js this process runs is 24; an older one is played by a preload
// that makes process.versions say so, before main.js loads anything.
const olderNode = `data:text/javascript,Object.defineProperty(process.versions, 'node', { value: '20.19.0' })`;

it('stops at once on an older Node.js, saying which version it needs and how to get it', () => {
  const run = spawnSync(process.execPath, ['--import', olderNode, 'dist/main.js'], {
    encoding: 'utf8',
    timeout: 15_000,
    // Configuration that would start a server, were the version not checked first.
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('TokenHub gateway needs Node.js 24 or newer');
  expect(run.stderr).toContain('is Node.js 20.19.0');
  expect(run.stderr).toContain('`npm ci` installs Node.js 24');
  expect(run.stdout).toBe('');
});
