import Anthropic from '@anthropic-ai/sdk';
import type { TestServer } from './server.js';

/** The official Anthropic SDK pointed at the gateway; no retries, so each call is one request. */
export function anthropicClient(server: Pick<TestServer, 'url'>, apiKey: string, options: { maxRetries?: number } = {}): Anthropic {
  return new Anthropic({ baseURL: server.url, apiKey, maxRetries: options.maxRetries ?? 0 });
}
