import type { Completion, Settlement } from './completion-record.js';

/**
 * Told when this process settles a completion: metrics subscribe here, so
 * the domain knows nothing of them.
 */
export interface CompletionObserver {
  settled(completion: Completion, settlement: Settlement): void;
}
