import type { Domain } from '../../domain/domain.js';
import type { Logger } from '../../logger.js';

/** What the Anthropic face needs. */
export interface AnthropicFaceDeps {
  domain: Domain;
  /** Largest request body (MAX_REQUEST_BYTES, the same as the other faces'). */
  maxRequestBytes: number;
  logger: Logger;
}
