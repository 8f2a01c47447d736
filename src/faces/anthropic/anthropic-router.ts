import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../../domain/access/viewer.js';
import { sendJson } from '../../http/json.js';
import type { AnthropicFaceDeps } from './anthropic-face.js';
import { AnthropicHttpError, internalError, toAnthropicError } from './anthropic-errors.js';
import { requestIdOf, sendError } from './anthropic-http.js';
import { handleCountTokens } from './count-tokens.js';
import { handleMessages } from './messages.js';
import { modelById, modelPage } from './models.js';
import { decodedSegment, pathOf, queryOf } from '../../http/request-path.js';

// Anthropic's Messages API under /v1, served by the same node:http server as
// the other faces, authenticated by the same Authenticator, calling the
// same domain. It answers /v1/messages and everything below it, and any
// other /v1 request that carries `anthropic-version` (every Anthropic SDK
// sends it, with whatever version: 2023-06-01 from Claude Code, 2026-10-21
// from SDK 1.x; the version is not checked). The rest of /v1 is the OpenAI
// face's. `?beta=true` (Claude Code's) and `anthropic-beta` headers change
// nothing: beta features the upstream cannot do are ignored like the fields
// in message-request.ts.


function owns(req: IncomingMessage): boolean {
  const path = pathOf(req);
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) return true;
  return req.headers['anthropic-version'] !== undefined && (path === '/v1' || path.startsWith('/v1/'));
}

/** `x-api-key: th-…` (Anthropic's header) or `Authorization: Bearer th-…` (what SDK 1.x and ANTHROPIC_AUTH_TOKEN send). */
function viewerOf(face: AnthropicFaceDeps, req: IncomingMessage): Promise<Viewer> {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return face.domain.authenticator.authenticateToken(apiKey.trim());
  return face.domain.authenticator.authenticate(req.headers.authorization);
}

type Handler = (face: AnthropicFaceDeps, viewer: Viewer, req: IncomingMessage, res: ServerResponse) => Promise<void>;


function routeOf(req: IncomingMessage): { method: string; handle: Handler } | undefined {
  const path = pathOf(req);
  if (path === '/v1/messages') return { method: 'POST', handle: handleMessages };
  if (path === '/v1/messages/count_tokens') return { method: 'POST', handle: handleCountTokens };
  if (path === '/v1/models') return { method: 'GET', handle: async (face, _viewer, r, res) => sendJson(res, 200, await modelPage(face.domain.catalogue, queryOf(r))) };
  if (path.startsWith('/v1/models/')) {
    const id = decodedSegment(path.slice('/v1/models/'.length));
    return { method: 'GET', handle: async (face, _viewer, _req, res) => sendJson(res, 200, await modelById(face.domain.catalogue, id)) };
  }
  return undefined;
}

async function route(face: AnthropicFaceDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A bad key fails every request, the public model list included, as on the other faces.
  const viewer = await viewerOf(face, req);
  const route = routeOf(req);
  if (!route) throw new AnthropicHttpError(404, 'not_found_error', `Unknown request URL: ${req.method} ${pathOf(req)}.`);
  if (req.method !== route.method) {
    throw new AnthropicHttpError(405, 'invalid_request_error', `${req.method} is not allowed on ${pathOf(req)}; use ${route.method}.`, { allow: route.method, 'x-should-retry': 'false' });
  }
  await route.handle(face, viewer, req, res);
}

/** Answers the requests the Anthropic face owns (and returns true), each failure with an Anthropic error body. */
export function anthropicRoutes(face: AnthropicFaceDeps) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!owns(req)) return false;
    const requestId = requestIdOf(req);
    if (requestId) res.setHeader('request-id', requestId);
    route(face, req, res).catch((error: unknown) => {
      // A client that left mid-request needs no answer.
      if (res.headersSent || req.socket.destroyed) {
        res.destroy();
        return;
      }
      const answer = toAnthropicError(error);
      if (!answer) face.logger.error({ err: error, method: req.method, path: pathOf(req) }, 'unexpected error in an Anthropic request');
      sendError(res, req, answer ?? internalError());
    });
    return true;
  };
}
