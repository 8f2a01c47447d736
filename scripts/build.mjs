// Compiles src/ to dist/: each TypeScript file to one JavaScript file at the
// same relative path, so dist/ mirrors src/ at the same depth and the paths
// the code resolves from import.meta.url (../../migrations, ../../playground/)
// still land in the repository. esbuild only strips the types (tsc stays the
// typechecker: `npm run typecheck`), in about a tenth of a second.
//
// Plain JavaScript, because it runs before anything is compiled and where
// only production dependencies are installed. `--if-stale` skips the build
// when dist/ was built from exactly these sources (`npm start` builds first
// only when needed).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp');

const sources = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => join(entry.parentPath, entry.name))
  .sort();

// What the output depends on: every source (path and contents), this script
// (which holds the options) and esbuild's version.
const hash = createHash('sha256').update(version).update(readFileSync(fileURLToPath(import.meta.url)));
for (const file of sources) hash.update(relative(src, file)).update('\0').update(readFileSync(file)).update('\0');
const stamp = hash.digest('hex');

const built = (() => {
  try {
    return readFileSync(stampFile, 'utf8');
  } catch {
    return undefined;
  }
})();
if (process.argv.includes('--if-stale') && built === stamp) process.exit(0);

// Built next to dist/ and swapped in whole, so dist/ never holds a mix of two builds.
const next = `${dist}.next-${process.pid}`;
const started = performance.now();
await build({
  entryPoints: sources,
  outbase: src,
  outdir: next,
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: 'linked',
  logLevel: 'warning',
});
writeFileSync(join(next, '.build-stamp'), stamp);
rmSync(dist, { recursive: true, force: true });
renameSync(next, dist);
console.error(`built ${sources.length} files into dist/ in ${Math.round(performance.now() - started)} ms`);
