import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(src).map((path) => ({ path: relative(src, path), text: readFileSync(path, 'utf8') }));

describe('the code layout', () => {
  it('keeps the domain free of GraphQL and transports', () => {
    const offenders = files
      .filter((f) => f.path.startsWith('domain/'))
      .filter((f) => /from '(graphql|graphql-yoga|@pothos\/[^']+|graphql-ws|ws)'|from '\.\.\/(graphql|plugins|rest)\//.test(f.text))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('reads the environment only in config.ts', () => {
    const offenders = files.filter((f) => f.path !== 'config.ts' && /process\.env/.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });
});
