import { once } from 'node:events';
import { forkReady, type Child } from './children.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

/** The load workers; each answers one request at a time. */
export class WorkerPool {
  private constructor(readonly workers: Child[]) {}

  static async start(count: number): Promise<WorkerPool> {
    const started = await Promise.all(Array.from({ length: count }, () => forkReady('./load-worker.ts')));
    return new WorkerPool(started.map((s) => s.child));
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /** Sends one request to worker `i` and waits for its reply. */
  async ask<T extends WorkerReply['type']>(i: number, request: WorkerRequest, expected: T): Promise<Extract<WorkerReply, { type: T }>> {
    const worker = this.workers[i];
    if (!worker) throw new Error(`no worker ${i}`);
    const reply = once(worker.process, 'message') as Promise<[WorkerReply]>;
    worker.process.send(request);
    const [message] = await reply;
    if (message.type === 'failed') throw new Error(`load worker ${i} failed: ${message.message}`);
    if (message.type !== expected) throw new Error(`load worker ${i} answered ${message.type}, not ${expected}`);
    return message as Extract<WorkerReply, { type: T }>;
  }

  /** The same kind of request to every worker, built per worker. */
  all<T extends WorkerReply['type']>(build: (i: number) => WorkerRequest, expected: T): Promise<Extract<WorkerReply, { type: T }>[]> {
    return Promise.all(this.workers.map((_, i) => this.ask(i, build(i), expected)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
