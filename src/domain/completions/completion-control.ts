/**
 * Commands between the instances of a deployment about completions they run.
 * A completion runs on the instance that started it; a cancel may arrive at
 * any instance, which asks the owner through this channel (realtime/
 * implements it for one instance and over Redis pub/sub).
 */
export interface CompletionControl {
  /** Asks whichever instance runs the completion to cancel it; resolves once the request is sent. */
  requestCancel(completionId: string): Promise<void>;
  /** `handler` receives the ids of completions another instance asked to cancel. */
  onCancel(handler: (completionId: string) => void): void;
  close(): Promise<void>;
}
