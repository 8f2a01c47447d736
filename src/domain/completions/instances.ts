import { eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { completionTable, instanceTable } from '../../db/tables.js';
import { interruptRunning, type Interruption } from './completion-record.js';

export interface InstanceOptions {
  /** With a shared event log (Redis): how long an instance may miss heartbeats; without: undefined. */
  sharedTimeoutMs: number | undefined;
  /** A completion still running this long after it started is ended, whoever owns it. */
  overdueAfterMs: number;
  /** How often the sweeps run (and, with Redis, the heartbeat: at least three per timeout). */
  sweepIntervalMs: number;
}

const ownerStopped: Interruption = { code: 'INTERRUPTED', message: 'the server stopped while this completion ran; nothing was charged' };
const overdue: Interruption = {
  code: 'OVERDUE',
  message: 'this completion ran past its time bound without settling; its reservation was released and nothing was charged',
};

/**
 * This process's registration and the sweeps that guarantee every
 * completion ends. Completions it starts carry its id; with Redis a
 * heartbeat tells other instances it is alive. Without a shared event log
 * the deployment is one instance, so at start every completion that another
 * process left running is orphaned; with Redis, only those of instances
 * whose heartbeat stopped. And on every deployment, a completion still
 * running past `overdueAfterMs` is ended whoever owns it, even a live owner
 * whose settlement cannot be written: so no completion holds credits, a
 * stream slot or its subscribers for ever.
 */
export class InstanceRegistration {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    readonly id: string,
    private readonly options: InstanceOptions,
    /** Told of completions a sweep marked INTERRUPTED, to end their event logs. */
    private readonly onInterrupted: (completionIds: string[]) => Promise<void>,
    /** Runs after each sweep (the service checks what it runs against the rows). */
    private readonly afterSweep: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Registers this instance and sweeps once; then sweeps every interval. */
  async start(): Promise<void> {
    await this.db.insert(instanceTable).values({ id: this.id });
    await this.interrupt(this.ownerIsGone(this.options.sharedTimeoutMs === undefined), ownerStopped);
    const { sharedTimeoutMs, sweepIntervalMs } = this.options;
    const interval = sharedTimeoutMs === undefined ? sweepIntervalMs : Math.min(sweepIntervalMs, sharedTimeoutMs / 3);
    this.timer = setInterval(() => void this.sweep().catch(this.onError), interval);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    if (this.options.sharedTimeoutMs !== undefined) {
      await this.db.update(instanceTable).set({ heartbeatAt: sql`now()` }).where(eq(instanceTable.id, this.id));
      await this.interrupt(this.ownerIsGone(false), ownerStopped);
    }
    await this.interrupt(sql`${completionTable.createdAt} < now() - make_interval(secs => ${this.options.overdueAfterMs / 1000})`, overdue);
    await this.afterSweep();
  }

  private async interrupt(which: SQL, reason: Interruption): Promise<void> {
    const interrupted = await interruptRunning(this.db, which, reason);
    if (interrupted.length > 0) await this.onInterrupted(interrupted);
  }

  private ownerIsGone(everyOtherInstance: boolean): SQL {
    if (everyOtherInstance) return sql`${completionTable.instanceId} <> ${this.id}`;
    return sql`${completionTable.instanceId} not in (
      select ${instanceTable.id} from ${instanceTable}
      where ${instanceTable.heartbeatAt} > now() - make_interval(secs => ${(this.options.sharedTimeoutMs ?? 0) / 1000}))`;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.db.delete(instanceTable).where(eq(instanceTable.id, this.id));
  }
}
