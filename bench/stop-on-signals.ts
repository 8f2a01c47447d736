// How a benchmark entry point (npm run bench, npm run soak) stops on Ctrl-C
// or SIGTERM: its children (gateway, upstream, proxies, workers) stopped and
// its database dropped, whatever else is still running.

/** Exit code of a run ended by a signal, as a shell reports a SIGINT. */
const STOPPED_BY_SIGNAL = 130;

export interface SignalStop {
  /** True once a signal arrived: what still runs is being torn down, and its failures are expected. */
  readonly stopping: boolean;
}

/**
 * On the first SIGINT or SIGTERM runs `cleanup`, then exits 130; past
 * `deadlineMs` it exits anyway, and the exit hook of children.ts SIGKILLs
 * any child still running, so no child outlives the run.
 *
 * `process.on`, not `once`, and every later signal is ignored: the same
 * Ctrl-C may arrive twice (from the terminal, and relayed by tsx), and with
 * no listener left tsx's own handler exits at once, which would skip the
 * database drop and SIGKILL a gateway in the middle of its graceful stop.
 * Forcing the exit on a second signal would make that duplicate an unclean
 * stop too; the deadline already bounds how long anyone waits.
 */
export function stopOnSignals(cleanup: () => Promise<void>, log: (message: string) => void, deadlineMs = 10_000): SignalStop {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        log(`${signal}: already stopping the children; the run ends within ${deadlineMs / 1000} s of the first signal`);
        return;
      }
      stopping = true;
      log(`${signal}: stopping the children`);
      const deadline = setTimeout(() => process.exit(STOPPED_BY_SIGNAL), deadlineMs);
      void cleanup().finally(() => {
        clearTimeout(deadline);
        process.exit(STOPPED_BY_SIGNAL);
      });
    });
  }
  return {
    get stopping() {
      return stopping;
    },
  };
}
