import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** A document the server knows by the SHA-256 (hex) of its text. */
export interface TrustedDocument {
  document: string;
  hash: string;
}

/** `extensions.persistedQuery.sha256Hash` of version 1 (Apollo's format, which the playground sends), or null. */
function hashOf(extensions: Record<string, unknown> | null | undefined): string | null {
  const persisted = extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | null | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

// PERSISTED_QUERY_NOT_FOUND is the code that clients of automatic
// persisted queries answer by sending the document itself.
const notFound = () =>
  createGraphQLError('this server has no trusted document with that sha256Hash; send the document itself in "query"', {
    extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
  });
const nothingToRun = () =>
  createGraphQLError('send a GraphQL document in "query", or a trusted one by its hash in extensions.persistedQuery { version: 1, sha256Hash }', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });

/**
 * Documents a client may send by hash (`extensions.persistedQuery`, version
 * 1, `sha256Hash`) instead of text, as persisted operations: the
 * playground's own, so that its requests carry no GraphQL text. Every
 * other client still sends documents as text: the API is not locked to
 * these. The same rule over HTTP and single-connection SSE (yoga's
 * onParams, through the persisted-operations plugin) and over graphql-ws
 * (`documentOf`, which websocket.ts asks before parsing).
 */
export class TrustedDocuments {
  private readonly byHash: ReadonlyMap<string, string>;

  constructor(documents: readonly TrustedDocument[]) {
    this.byHash = new Map(documents.map((d) => [d.hash, d.document]));
  }

  plugin(): Plugin {
    return usePersistedOperations({
      extractPersistedOperationId: (params) => hashOf(params.extensions),
      getPersistedOperation: (hash) => this.byHash.get(hash) ?? null,
      allowArbitraryOperations: true,
      customErrors: { notFound, keyNotFound: nothingToRun },
    }) as Plugin;
  }

  /** The text to run for an operation's parameters: its own, or the trusted document it names; else throws the refusal. */
  documentOf(params: { query?: string; extensions?: Record<string, unknown> | null }): string {
    if (params.query) return params.query;
    const hash = hashOf(params.extensions);
    if (hash === null) throw nothingToRun();
    const document = this.byHash.get(hash);
    if (document === undefined) throw notFound();
    return document;
  }
}
