import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout's rules, checked on the import statements of src/: the domain
// is plain TypeScript behind ports, faces are translators that know only the
// domain, and nothing but the composition root (app.ts) knows every room.

const src = fileURLToPath(new URL('../../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

interface SourceFile {
  /** Relative to src/, e.g. `domain/completions/completion-service.ts`. */
  path: string;
  text: string;
  /** Packages it imports (`graphql`, `node:http`) and files of src/ (`realtime/redis-client.ts`). */
  imports: string[];
}

const importPattern = /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm;

function importsOf(path: string, text: string): string[] {
  return [...text.matchAll(importPattern)].map((m) => {
    const spec = (m[1] ?? m[2] ?? m[3]) as string;
    if (!spec.startsWith('.')) return spec;
    return relative(src, join(dirname(join(src, path)), spec)).replace(/\.js$/, '.ts');
  });
}

const files: SourceFile[] = sourceFiles(src).map((file) => {
  const path = relative(src, file);
  const text = readFileSync(file, 'utf8');
  return { path, text, imports: importsOf(path, text) };
});

/** Each file under `room` that imports something `forbidden` matches, with what it imports. */
function offenders(room: string, forbidden: (imported: string) => boolean): string[] {
  return files
    .filter((f) => f.path.startsWith(room))
    .flatMap((f) => f.imports.filter(forbidden).map((imported) => `${f.path} -> ${imported}`));
}

const graphQL = (i: string) => /^(graphql|graphql-yoga|graphql-ws|graphql-sse|ws|@pothos\/.*|@graphql-yoga\/.*|@envelop\/.*|@escape\.tech\/.*)$/.test(i);
const http = (i: string) => /^(node:)?(http|https|http2)$/.test(i) || i.startsWith('http/') || i.startsWith('faces/');
const redis = (i: string) => i === 'ioredis';
const openTelemetry = (i: string) => i.startsWith('@opentelemetry/');
const implementations = (i: string) => /^(realtime|upstream|simulator|observability)\//.test(i) || i === 'app.ts' || i === 'main.ts';

describe('the code layout', () => {
  it('keeps the domain free of GraphQL', () => {
    expect(offenders('domain/', graphQL)).toEqual([]);
  });

  it('keeps the domain free of HTTP and of the faces', () => {
    expect(offenders('domain/', http)).toEqual([]);
  });

  it('keeps the domain free of Redis', () => {
    expect(offenders('domain/', redis)).toEqual([]);
  });

  it('keeps the domain free of OpenTelemetry: completions trace through a port of their own', () => {
    expect(offenders('domain/', openTelemetry)).toEqual([]);
  });

  it('lets only observability/ and the HTTP request spans import OpenTelemetry', () => {
    const outside = files.filter((f) => !f.path.startsWith('observability/') && f.path !== 'http/request-spans.ts');
    expect(outside.flatMap((f) => f.imports.filter(openTelemetry).map((i) => `${f.path} -> ${i}`))).toEqual([]);
  });

  it('lets the domain reach realtime, the upstream and the simulator only through the ports it owns', () => {
    expect(offenders('domain/', implementations)).toEqual([]);
  });

  it('keeps faces apart: a face imports neither another face nor storage or port implementations', () => {
    for (const face of ['faces/graphql/', 'faces/openai/', 'faces/anthropic/']) {
      const otherFaces = (i: string) => i.startsWith('faces/') && !i.startsWith(face);
      const below = (i: string) => /^(db|realtime|upstream|simulator)\//.test(i);
      expect(offenders(face, (i) => otherFaces(i) || below(i))).toEqual([]);
    }
  });

  it('lets only the composition root import the faces', () => {
    const outside = files.filter((f) => !f.path.startsWith('faces/') && f.path !== 'app.ts');
    const found = outside.flatMap((f) => f.imports.filter((i) => i.startsWith('faces/')).map((i) => `${f.path} -> ${i}`));
    expect(found).toEqual([]);
  });

  it('keeps the simulator independent of the gateway', () => {
    expect(offenders('simulator/', (i) => /^(domain|faces|realtime|upstream|db)\//.test(i))).toEqual([]);
  });

  it('reads the environment only in config.ts', () => {
    const found = files.filter((f) => f.path !== 'config.ts' && /process\.env/.test(f.text)).map((f) => f.path);
    expect(found).toEqual([]);
  });

  it('finds the imports it checks (the rules above are not vacuous)', () => {
    const app = files.find((f) => f.path === 'app.ts');
    expect(app?.imports).toEqual(expect.arrayContaining(['domain/domain.ts', 'faces/graphql/yoga.ts', 'faces/anthropic/anthropic-router.ts', 'node:http']));
    expect(files.filter((f) => f.path.startsWith('faces/anthropic/')).length).toBeGreaterThan(0);
    expect(offenders('faces/graphql/', graphQL).length).toBeGreaterThan(0);
    expect(offenders('observability/', openTelemetry).length).toBeGreaterThan(0);
    expect(files.find((f) => f.path === 'domain/completions/completion-service.ts')?.imports).toContain('domain/completions/completion-tracer.ts');
  });
});
