import type { Viewer } from '../domain/access/viewer.js';
import type { Completion } from '../domain/completions/completion-record.js';
import type { Domain } from '../domain/domain.js';
import type { Logger } from '../logger.js';
import type { ClientPresence } from './client-presence.js';

/**
 * What a REST face does with a completion it answers once nobody can read
 * the answer: cancelled (charged for what was generated) when the client
 * leaves, unless it sent an Idempotency-Key, whose retry will pick the
 * completion up again. Returns the cancel for a stream the domain ended
 * (the key was revoked): nobody will read that one either.
 */
export function cancelWhenAbandoned(
  completions: Domain['completions'],
  viewer: Viewer,
  completion: Completion,
  client: ClientPresence,
  log: Logger,
): () => Promise<void> {
  const cancel = (why: string) => () =>
    completions.cancel(viewer, completion.id).then(
      () => undefined,
      (error: unknown) => log.error({ err: error }, `could not cancel ${why}`),
    );
  client.whenGone(() => {
    if (completion.idempotencyKey) {
      log.info('the client left before the answer was complete; the completion runs on for a retry with its Idempotency-Key');
      return;
    }
    log.info('the client left before the answer was complete; cancelling the completion');
    void cancel('an abandoned completion')();
  });
  return cancel('a completion whose stream ended');
}
