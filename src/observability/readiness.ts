/**
 * Something this instance needs in order to serve: the database, and Redis
 * when configured. Whoever opens such a dependency adds its check to
 * `services.readiness`; `/ready` runs them all.
 */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or hangs) when it does not. */
  check(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, 'ok' | 'failed'>;
}

/** Runs every check at once; one that has not answered within `timeoutMs` has failed. */
export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<Readiness> {
  const outcomes = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch {
        return [name, 'failed'] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: outcomes.every(([, outcome]) => outcome === 'ok'), checks: Object.fromEntries(outcomes) };
}
