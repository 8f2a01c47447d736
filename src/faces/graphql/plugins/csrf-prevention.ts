import { createGraphQLError, type Plugin } from 'graphql-yoga';

// What a browser may send cross-site without a CORS preflight: an HTML form
// or a no-cors fetch. Yoga parses the first two, so a forged form post could
// otherwise run a mutation with whatever credentials the browser attaches.
const simpleContentTypes = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'graphql-require-preflight'];

/**
 * The GraphQL-over-HTTP CSRF rule for POST: a body must come with a content
 * type that forces a preflight (application/json, application/graphql+json …)
 * or with one of CSRF_HEADERS, which no cross-site form can set. Returns the
 * refusal (403 FORBIDDEN), or undefined for a request that passes. GET needs
 * no rule of ours: yoga refuses mutations over GET, and EventSource clients
 * (SSE over GET) cannot set headers.
 */
export function forgeryRefusal(request: Request) {
  if (request.method !== 'POST') return undefined;
  const mediaType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  const preflighted = mediaType !== undefined && mediaType !== '' && !simpleContentTypes.has(mediaType);
  if (preflighted || CSRF_HEADERS.some((header) => request.headers.has(header))) return undefined;
  return createGraphQLError(
    `send GraphQL requests with "Content-Type: application/json" (or add the header ${CSRF_HEADERS[0]}); form-encoded, multipart and text/plain bodies are refused to prevent cross-site request forgery`,
    { extensions: { code: 'FORBIDDEN', http: { status: 403 } } },
  );
}

/** The CSRF rule above, for every request yoga parses (single-connection SSE applies it itself). */
export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      const refusal = forgeryRefusal(request);
      if (refusal) throw refusal;
    },
  };
}
