// What the bundler (src/http/playground-bundle.ts) gives the page.

/** An operation file: its document, and its SHA-256 (hex), which the server knows it by. */
declare module '*.graphql' {
  const operation: { document: string; hash: string };
  export default operation;
}

/** True when the server runs trusted documents (TRUSTED_DOCUMENTS): the page then sends hashes, not documents. */
declare const SEND_OPERATIONS_BY_HASH: boolean;
