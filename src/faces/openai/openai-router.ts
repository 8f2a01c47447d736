import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../../domain/access/viewer.js';
import { sendJson } from '../../http/json.js';
import { handleChatCompletion } from './chat-completions.js';
import type { OpenAIFaceDeps } from './openai-face.js';
import { sendError } from './http-json.js';
import { modelById, modelList } from './models.js';
import { internalError, OpenAIHttpError, toOpenAIError } from './openai-errors.js';
import { decodedSegment, pathOf } from '../../http/request-path.js';

// The OpenAI-compatible REST API under /v1, served by the same node:http
// server as GraphQL. It is a face like the GraphQL schema: it authenticates
// with the same Authenticator and calls the same domain.



type Handler = (face: OpenAIFaceDeps, viewer: Viewer, req: IncomingMessage, res: ServerResponse) => Promise<void>;

function methodNotAllowed(req: IncomingMessage, allowed: string): OpenAIHttpError {
  return new OpenAIHttpError(405, `${req.method} is not allowed on ${pathOf(req)}; use ${allowed}.`, 'invalid_request_error', 'method_not_allowed', null, { allow: allowed });
}


function routeOf(req: IncomingMessage): { method: string; handle: Handler } | undefined {
  const path = pathOf(req);
  if (path === '/v1/models') return { method: 'GET', handle: async (face, _viewer, _req, res) => sendJson(res, 200, await modelList(face.domain.catalogue)) };
  if (path.startsWith('/v1/models/')) {
    const id = decodedSegment(path.slice('/v1/models/'.length));
    return { method: 'GET', handle: async (face, _viewer, _req, res) => sendJson(res, 200, await modelById(face.domain.catalogue, id)) };
  }
  if (path === '/v1/chat/completions') return { method: 'POST', handle: handleChatCompletion };
  return undefined;
}

async function route(face: OpenAIFaceDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A bad key fails every request, public ones included, as over GraphQL.
  const viewer = await face.domain.authenticator.authenticate(req.headers.authorization);
  const route = routeOf(req);
  if (!route) throw new OpenAIHttpError(404, `Unknown request URL: ${req.method} ${pathOf(req)}.`, 'invalid_request_error', 'unknown_url');
  if (req.method !== route.method) throw methodNotAllowed(req, route.method);
  await route.handle(face, viewer, req, res);
}

/**
 * Answers every request below /v1 (and returns true), each failure with an
 * OpenAI error body; returns false for any other path.
 */
export function openAIRoutes(face: OpenAIFaceDeps) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = pathOf(req);
    if (path !== '/v1' && !path.startsWith('/v1/')) return false;
    route(face, req, res).catch((error: unknown) => {
      // A client that left mid-request needs no answer.
      if (res.headersSent || req.socket.destroyed) {
        res.destroy();
        return;
      }
      const answer = toOpenAIError(error);
      if (!answer) face.logger.error({ err: error, method: req.method, path }, 'unexpected error in a REST request');
      sendError(res, answer ?? internalError());
    });
    return true;
  };
}
