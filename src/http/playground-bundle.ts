import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { operationOf } from './playground-operations.js';

const sourceDir = fileURLToPath(new URL('../../playground/', import.meta.url));

export interface PlaygroundFile {
  /** File name, also its URL path below `/`: `index.html`, `playground-<hash>.js`, … */
  name: string;
  contents: Uint8Array;
}

// `import stream from './operations/Stream.graphql'` gives the page the
// document and its hash, made by the same function as the server's list.
const graphqlOperations: Plugin = {
  name: 'graphql-operations',
  setup(build) {
    build.onLoad({ filter: /\.graphql$/ }, async (args) => {
      const { document, hash } = operationOf(basename(args.path, '.graphql'), await readFile(args.path, 'utf8'));
      return { contents: `export default ${JSON.stringify({ document, hash })};`, loader: 'js' };
    });
  },
};

export interface BundleOptions {
  /** The page sends its operations by hash, not as text (TRUSTED_DOCUMENTS is on). */
  byHash?: boolean;
}

/**
 * Bundles the playground (playground/main.ts and the CSS it imports) with
 * esbuild, in memory, and returns it with its index.html. Script and style
 * names carry a content hash, written into index.html here, so a browser may
 * cache them forever and a new build is never mixed with an old page.
 *
 * esbuild is imported lazily: a server without it (say, installed without dev
 * dependencies) still starts, and only the playground is missing.
 */
export async function bundlePlayground({ byHash = false }: BundleOptions = {}): Promise<PlaygroundFile[]> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { playground: join(sourceDir, 'main.ts') },
    entryNames: '[name]-[hash]',
    // Nothing is written (write: false); esbuild still needs an outdir to name the outputs.
    outdir: join(sourceDir, 'out'),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'edge111', 'firefox114', 'safari16.4'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    plugins: [graphqlOperations],
    define: { SEND_OPERATIONS_BY_HASH: JSON.stringify(byHash) },
  });
  const files: PlaygroundFile[] = result.outputFiles.map((file) => ({ name: basename(file.path), contents: file.contents }));
  const script = files.find((file) => file.name.endsWith('.js'));
  const style = files.find((file) => file.name.endsWith('.css'));
  if (!script || !style) throw new Error('the playground bundle lacks its script or its stylesheet');
  let page = await readFile(join(sourceDir, 'index.html'), 'utf8');
  for (const [reference, file] of [['/playground.js', script], ['/playground.css', style]] as const) {
    if (!page.includes(`"${reference}"`)) throw new Error(`playground/index.html must refer to "${reference}"`);
    page = page.replace(`"${reference}"`, `"/${file.name}"`);
  }
  return [{ name: 'index.html', contents: Buffer.from(page) }, ...files];
}
