import { eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { completionTable, instanceTable } from '../db/tables.js';
import { interruptOrphans } from './completion-record.js';

/** How long an instance may miss heartbeats before its completions count as orphaned. */
export const INSTANCE_TIMEOUT_SECONDS = 30;
const HEARTBEAT_MS = 10_000;

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
    private readonly shared: boolean,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<number> {
    await this.db.insert(instanceTable).values({ id: this.id });
    const interrupted = await interruptOrphans(this.db, this.orphanCondition(!this.shared));
    if (this.shared) {
      this.timer = setInterval(() => void this.beat().catch(this.onError), HEARTBEAT_MS);
      this.timer.unref();
    }
    return interrupted;
  }

  private async beat(): Promise<void> {
    await this.db.update(instanceTable).set({ heartbeatAt: new Date() }).where(eq(instanceTable.id, this.id));
    await interruptOrphans(this.db, this.orphanCondition(false));
  }

  private orphanCondition(everyOtherInstance: boolean): SQL {
    if (everyOtherInstance) return sql`${completionTable.instanceId} <> ${this.id}`;
    return sql`${completionTable.instanceId} not in (
      select ${instanceTable.id} from ${instanceTable}
      where ${instanceTable.heartbeatAt} > now() - make_interval(secs => ${INSTANCE_TIMEOUT_SECONDS}))`;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.db.delete(instanceTable).where(eq(instanceTable.id, this.id));
  }
}
