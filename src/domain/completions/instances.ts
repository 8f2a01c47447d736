import { eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { completionTable, instanceTable } from '../../db/tables.js';
import { interruptOrphans } from './completion-record.js';

/**
 * This process's registration: completions it starts carry its id, and a
 * heartbeat tells other instances it is alive. Without a shared event log
 * (no Redis) the deployment is one instance, so at start every completion
 * that another process left running is orphaned; with Redis, only those of
 * instances whose heartbeat stopped.
 */
export class InstanceRegistration {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    readonly id: string,
    /** With a shared event log (Redis): the heartbeat timeout in ms; without: undefined. */
    private readonly sharedTimeoutMs: number | undefined,
    /** Told of completions it marked INTERRUPTED, to end their event logs. */
    private readonly onInterrupted: (completionIds: string[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Registers this instance; resolves to the completions it found orphaned. */
  async start(): Promise<string[]> {
    await this.db.insert(instanceTable).values({ id: this.id });
    const interrupted = await interruptOrphans(this.db, this.orphanCondition(this.sharedTimeoutMs === undefined));
    if (interrupted.length > 0) await this.onInterrupted(interrupted);
    if (this.sharedTimeoutMs !== undefined) {
      // Three beats per timeout, so one late beat never looks like a death.
      this.timer = setInterval(() => void this.beat().catch(this.onError), this.sharedTimeoutMs / 3);
      this.timer.unref();
    }
    return interrupted;
  }

  private async beat(): Promise<void> {
    await this.db.update(instanceTable).set({ heartbeatAt: sql`now()` }).where(eq(instanceTable.id, this.id));
    const interrupted = await interruptOrphans(this.db, this.orphanCondition(false));
    if (interrupted.length > 0) await this.onInterrupted(interrupted);
  }

  private orphanCondition(everyOtherInstance: boolean): SQL {
    if (everyOtherInstance) return sql`${completionTable.instanceId} <> ${this.id}`;
    return sql`${completionTable.instanceId} not in (
      select ${instanceTable.id} from ${instanceTable}
      where ${instanceTable.heartbeatAt} > now() - make_interval(secs => ${(this.sharedTimeoutMs ?? 0) / 1000}))`;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.db.delete(instanceTable).where(eq(instanceTable.id, this.id));
  }
}
