import type { CompletionControl } from '../domain/completions/completion-control.js';

/** A lone instance runs every completion itself: there is nobody to ask. */
export const localCompletionControl: CompletionControl = {
  requestCancel: async () => {},
  onCancel: () => {},
  close: async () => {},
};
