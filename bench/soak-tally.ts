import type { GraphQLBody } from './soak-gateway.js';

// What every soak client got back, counted by outcome, and the defects among
// them. An outcome is a short label ("ok", "RATE_LIMITED", "HTTP 409",
// "close 4408"); each client names the outcomes it expects, and anything else
// is a defect. A 5xx and INTERNAL_SERVER_ERROR are defects wherever they appear.

export type DefectKind =
  | 'HTTP 5xx'
  | 'INTERNAL_SERVER_ERROR'
  | 'wrong final status'
  | 'subscription not ended on revocation'
  | 'normal traffic failed'
  | 'gateway logged an error'
  | 'unexpected answer';

export interface Defect {
  kind: DefectKind;
  client: string;
  outcome: string;
  detail: string;
  at: string;
}

/** Enough examples to diagnose; a defect that repeats a thousand times is counted, not listed. */
const MAX_DEFECTS_KEPT = 50;

export class ClientTally {
  readonly counts = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly expects: (outcome: string) => boolean,
    private readonly unexpectedKind: DefectKind,
    private readonly tally: Tally,
  ) {}

  record(outcome: string, detail = ''): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
    if (this.expects(outcome)) return;
    const kind: DefectKind = /\bHTTP 5\d\d\b/.test(outcome) ? 'HTTP 5xx' : outcome.includes('INTERNAL_SERVER_ERROR') ? 'INTERNAL_SERVER_ERROR' : this.unexpectedKind;
    this.tally.defect({ kind, client: this.name, outcome, detail: detail.slice(0, 300), at: new Date().toISOString() });
  }
}

export class Tally {
  readonly clients: ClientTally[] = [];
  readonly defects: Defect[] = [];
  readonly defectCounts = new Map<DefectKind, number>();

  /** A client expecting the outcomes listed, or those `expected` accepts; loops of one kind share one by name. */
  client(name: string, expected: readonly string[] | ((outcome: string) => boolean), unexpectedKind: DefectKind = 'unexpected answer'): ClientTally {
    const existing = this.clients.find((c) => c.name === name);
    if (existing) return existing;
    const accepts = typeof expected === 'function' ? expected : (outcome: string) => expected.includes(outcome);
    const client = new ClientTally(name, accepts, unexpectedKind, this);
    this.clients.push(client);
    return client;
  }

  defect(defect: Defect): void {
    this.defectCounts.set(defect.kind, (this.defectCounts.get(defect.kind) ?? 0) + 1);
    if (this.defects.length < MAX_DEFECTS_KEPT) this.defects.push(defect);
  }

  get defectTotal(): number {
    return [...this.defectCounts.values()].reduce((a, b) => a + b, 0);
  }
}

/** A GraphQL answer as one outcome: "ok", its first error code, or the HTTP status when that is a 5xx. */
export function graphqlOutcome(status: number, body: GraphQLBody): string {
  if (status >= 500) return `HTTP ${status}`;
  const code = body.errors?.[0]?.extensions?.code;
  if (body.errors?.length) return typeof code === 'string' ? code : `error without code (HTTP ${status})`;
  return status === 200 ? 'ok' : `HTTP ${status}`;
}

/** A thrown error (a refused connection, a timeout) as an outcome. */
export function failureOutcome(error: unknown): string {
  return `failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`.slice(0, 120);
}
