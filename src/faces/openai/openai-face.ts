import type { Domain } from '../../domain/domain.js';
import type { Logger } from '../../logger.js';

/** What the OpenAI face needs. */
export interface OpenAIFaceDeps {
  domain: Domain;
  /** Largest request body (MAX_COMPLETION_REQUEST_BYTES, the same as Anthropic's face). */
  maxRequestBytes: number;
  logger: Logger;
}
