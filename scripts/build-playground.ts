import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePlayground } from '../src/http/playground-bundle.js';

// The server builds the playground in memory at start and needs none of
// this; the files on disk are for looking at the bundle or serving it from
// a static host. .data/ is git-ignored.
const target = fileURLToPath(new URL('../.data/playground-dist/', import.meta.url));
const started = performance.now();
const files = await bundlePlayground();
await rm(target, { recursive: true, force: true });
await mkdir(target, { recursive: true });
for (const file of files) await writeFile(join(target, file.name), file.contents);
const ms = Math.round(performance.now() - started);
for (const file of files) console.log(`  ${file.name.padEnd(32)} ${String(file.contents.byteLength).padStart(7)} bytes`);
console.log(`wrote ${files.length} files to ${target} in ${ms} ms`);
