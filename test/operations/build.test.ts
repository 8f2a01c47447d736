import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm start` builds first when dist/ is missing or stale, then runs the
// build output on plain Node. Tried on a copy of the sources, so that the
// repository's own dist/ (which other tests run) is left alone.

const root = new URL('../..', import.meta.url).pathname;
let copy: string;
beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'tokenhub-build-'));
  for (const path of ['src', 'scripts', 'tsconfig.json', 'package.json']) cpSync(join(root, path), join(copy, path), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** `npm start`'s build step; what it printed. */
function buildIfStale(): string {
  const run = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
  expect(run.status).toBe(0);
  return run.stderr;
}

const stampOf = () => readFileSync(join(copy, 'dist/.build-stamp'), 'utf8');

describe("npm start's build", () => {
  it('builds dist/ when it is missing, and leaves it as it is while no source changed', () => {
    expect(buildIfStale()).toMatch(/^built \d+ files into dist\//);
    const built = { stamp: stampOf(), at: statSync(join(copy, 'dist/main.js')).mtimeMs };
    expect(buildIfStale()).toBe('');
    expect({ stamp: stampOf(), at: statSync(join(copy, 'dist/main.js')).mtimeMs }).toEqual(built);
  });

  it('builds again once a source changed', () => {
    buildIfStale();
    const before = stampOf();
    appendFileSync(join(copy, 'src/config.ts'), '\n// changed\n');
    expect(buildIfStale()).toMatch(/^built \d+ files into dist\//);
    expect(stampOf()).not.toBe(before);
  });

  it('is what npm start runs, on plain Node without a TypeScript loader', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe('node scripts/build.mjs --if-stale && exec node dist/main.js');
    const main = readFileSync(join(copy, 'dist/main.js'), 'utf8');
    expect(main).not.toMatch(/tsx|\.ts['"]/);
    // Node parses every output file as JavaScript: no type syntax was left in.
    const check = spawnSync(process.execPath, ['--check', join(copy, 'dist/domain/completions/completion-service.js')], { encoding: 'utf8' });
    expect(check.status).toBe(0);
  });
});
