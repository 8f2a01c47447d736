import type { Domain } from '../../domain/domain.js';
import type { Logger } from '../../logger.js';

/** What the Anthropic face needs. */
export interface AnthropicFaceDeps {
  domain: Domain;
  /** Largest request body (MAX_COMPLETION_REQUEST_BYTES, the same as the OpenAI face's). */
  maxRequestBytes: number;
  logger: Logger;
}
