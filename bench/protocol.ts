import type { CompletionSample } from './clients/arm-client.js';
import type { ArmName, ProfileName } from './workload.js';

// Messages between the orchestrator (run.ts) and its load workers.

export interface Endpoints {
  /** The fake upstream's OpenAI base URL (…/v1). */
  upstream: string;
  /** The thin proxy's OpenAI base URL (…/v1). */
  proxy: string;
  /** Portkey's OpenAI base URL (…/v1), unless it does not run (--no-portkey). */
  portkey?: string;
  /** The gateway's GraphQL URL; its REST faces are under /v1 beside it. */
  graphql: string;
  /** A second gateway run from another checkout, for A/B comparisons (--compare-dir). */
  graphqlBase?: string;
}

/** One measurement: one arm, one profile, one concurrency. Times are ms after the start. */
export interface CellSpec {
  arm: ArmName;
  /** Face arms only: run against the comparison gateway (--compare-dir). */
  base?: boolean;
  profile: ProfileName;
  concurrency: number;
  /** Client i of n starts its first completion at i/n of this. */
  staggerMs: number;
  /** No completion starts after this. */
  durationMs: number;
  /** Tokens are counted for throughput between these two times. */
  windowFromMs: number;
  windowToMs: number;
  /** Let completions running at durationMs finish (true), or abort them then (false). */
  drain: boolean;
}

export interface ClientSlot {
  /** 0 … concurrency − 1 across all workers: decides the stagger offset. */
  index: number;
  apiKey: string;
}

export interface CellResult {
  samples: CompletionSample[];
  /** Tokens and text events that arrived inside the window. */
  windowTokens: number;
  windowEvents: number;
}

export interface IdleSpec {
  transport: 'ws' | 'sse';
  /** Each subscription follows one of these completions, which produce nothing. */
  completionIds: string[];
  slots: ClientSlot[];
}

export type WorkerRequest =
  | { type: 'prepare'; cell: CellSpec; slots: ClientSlot[]; endpoints: Endpoints }
  | { type: 'go'; startAt: number }
  | { type: 'idle-open'; idle: IdleSpec; endpoints: Endpoints }
  | { type: 'idle-close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'prepared' }
  | { type: 'result'; result: CellResult }
  | { type: 'idle-opened'; failures: string[] }
  | { type: 'idle-closed' }
  | { type: 'failed'; message: string };
