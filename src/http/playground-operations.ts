import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The playground's GraphQL operations, one file each in playground/operations/:
// the page imports them (bundled with their hashes, see playground-bundle.ts)
// and the server reads the same files at start for its trusted documents.
// Nothing stores a hash, so the list cannot drift from what the page sends.

const operationsDir = fileURLToPath(new URL('../../playground/operations/', import.meta.url));

export interface PlaygroundOperation {
  /** The file's name without `.graphql`: Models, Start, Stream … */
  name: string;
  /** The document exactly as the page would send it. */
  document: string;
  /** SHA-256 of the document, in hex: its key in `extensions.persistedQuery.sha256Hash`. */
  hash: string;
}

/** An operation file's document (without surrounding blank space) and its hash. */
export function operationOf(name: string, text: string): PlaygroundOperation {
  const document = text.trim();
  return { name, document, hash: createHash('sha256').update(document).digest('hex') };
}

/** Every operation of the playground, read from its files. */
export async function playgroundOperations(): Promise<PlaygroundOperation[]> {
  const files = (await readdir(operationsDir)).filter((file) => file.endsWith('.graphql')).sort();
  return Promise.all(files.map(async (file) => operationOf(file.replace(/\.graphql$/, ''), await readFile(join(operationsDir, file), 'utf8'))));
}
