import { tokensIn, type Profile } from '../workload.js';
import { now, type CompletionSample, type TokenSink } from './arm-client.js';

/** A completion event as the benchmark's selection set returns it. */
export interface StreamEvent {
  completionId: string;
  index: number;
  delta: string | null;
  done: boolean;
  completion: { status: string; usage: { completionTokens: number } | null; error: { code: string; message: string } | null } | null;
}

export interface GraphQLResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string }[];
}

/** The field's value of a GraphQL result, or an error carrying the result's first error. */
export function fieldOf<T>(result: GraphQLResult, field: string): T {
  const value = result.data?.[field];
  if (result.errors?.length || value === undefined || value === null) {
    throw new Error(`GraphQL: ${result.errors?.[0]?.message ?? `no ${field}`}`);
  }
  return value as T;
}

/**
 * Follows one completion's events into its sample: counts the tokens each
 * delta carries, and checks what the contract promises — indexes 0, 1, 2, …
 * without gaps, the whole text, a successful end whose usage matches.
 */
export class EventTally {
  #nextIndex = 0;

  constructor(
    private readonly sample: CompletionSample,
    private readonly profile: Profile,
    private readonly onTokens: TokenSink,
  ) {}

  /** True on the last event. */
  take(event: StreamEvent): boolean {
    const { sample } = this;
    if (event.index !== this.#nextIndex) sample.error ??= `event ${event.index} arrived where ${this.#nextIndex} was due`;
    this.#nextIndex = event.index + 1;
    if (event.delta) {
      const at = now();
      const tokens = tokensIn(event.delta);
      sample.firstTokenAt ??= at;
      sample.tokens += tokens;
      sample.events += 1;
      this.onTokens(tokens, at);
    }
    if (!event.done) return false;
    sample.finishedAt = now();
    const completion = event.completion;
    if (completion?.status !== 'SUCCEEDED') {
      const why = completion?.error ? ` (${completion.error.code}: ${completion.error.message})` : '';
      sample.error ??= `ended ${completion?.status ?? 'without a completion'}${why}`;
    }
    else if (sample.tokens !== this.profile.tokens) sample.error ??= `received ${sample.tokens} of ${this.profile.tokens} tokens`;
    else if (completion.usage?.completionTokens !== this.profile.tokens) sample.error ??= `usage says ${completion.usage?.completionTokens} tokens`;
    return true;
  }
}
