import OpenAI from 'openai';
import type { TestServer } from './server.js';

/** The official openai SDK pointed at the gateway's REST API; no retries, so each call is one request. */
export function openaiClient(server: Pick<TestServer, 'url'>, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
}
