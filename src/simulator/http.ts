import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { sendJson } from '../http/json.js';

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
  headers: OutgoingHttpHeaders = {},
): void {
  sendJson(res, status, { error: { message, type, param, code } }, headers);
}
