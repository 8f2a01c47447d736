import { randomUUID } from 'node:crypto';
import { isDataError, UNIQUE_VIOLATION, sqlStateOf, type Database } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import { accountFor, assertAccountAccess, assertAccountsAccess, assertSignedIn } from '../access/access-rules.js';
import type { GuardedStream, KeyWatch } from '../access/key-watch.js';
import { secondsUntilReset, type RateLimiter, type RateWindow } from '../access/rate-limiter.js';
import type { Viewer } from '../access/viewer.js';
import type { ApiKey } from '../api-keys/api-key-record.js';
import { findAccount } from '../accounts/account-record.js';
import type { BalanceFeed } from '../accounts/balance-feed.js';
import type { CatalogueCache } from '../catalogue/catalogue-cache.js';
import { usableFallback } from '../catalogue/fallback-model.js';
import type { Model } from '../catalogue/model.js';
import {
  DomainError,
  field,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InsufficientCreditsError,
  NotFoundError,
  RateLimitedError,
  say,
  SpendLimitExceededError,
  UnavailableError,
  BadInputError,
} from '../errors.js';
import { validateIdempotencyKey } from '../idempotency.js';
import { formatMoney } from '../money.js';
import type { PageRequest } from '../pagination.js';
import type { CompletionControl } from './completion-control.js';
import type { CompletionEvent } from './completion-event.js';
import type { CompletionObserver } from './completion-observer.js';
import type { CompletionTrace, CompletionTracer, TracedSettlement } from './completion-tracer.js';
import {
  activeStatuses,
  countCompletionsOf,
  findByIdempotencyKey,
  findCompletion,
  findCompletions,
  insertReserved,
  listCompletionsOf,
  settle,
  settledAmong,
  type Completion,
  type ReserveOutcome,
  type Settlement,
} from './completion-record.js';
import { replayFromRow } from './completion-replay.js';
import { fingerprintOf } from './request-fingerprint.js';
import { buildUpstreamRequest, type CompletionRequestInput } from './completion-request.js';
import type { CompletionEventLog } from './event-log.js';
import { LiveCompletion } from './live-completion.js';
import type { ResilientUpstream, UpstreamRoute } from './resilient-upstream.js';
import { fitToCredits, leastFittedReservation, MIN_FITTED_MAX_TOKENS } from './max-tokens-fitting.js';
import { settlementOf, withoutText, type StopReason } from './settlement.js';
import { estimatedPromptTokens, worstCaseCost } from './token-estimates.js';
import { ToolCallAssembler } from './tool-calls.js';
import { UpstreamError, type UpstreamRequest } from './upstream.js';

export interface StartInput extends CompletionRequestInput {
  /** Admin only: the account to run and charge the completion for. */
  accountId?: string | null;
  /**
   * When the worst case at maxTokens is more than the account (or the key's
   * spend limit) can hold, run with maxTokens lowered to what fits rather
   * than refuse (see max-tokens-fitting.ts). Off unless a face asks.
   */
  fitMaxTokensToCredits?: boolean;
}

/** What a trace may hold of a settlement: no text. */
const tracedSettlement = (s: Omit<TracedSettlement, 'appliedHere'>, appliedHere: boolean): TracedSettlement => ({
  status: s.status,
  errorCode: s.errorCode,
  charge: s.charge,
  promptTokens: s.promptTokens,
  completionTokens: s.completionTokens,
  cachedPromptTokens: s.cachedPromptTokens,
  cacheWriteTokens: s.cacheWriteTokens,
  usageEstimated: s.usageEstimated,
  answeredModelId: s.answeredModelId,
  appliedHere,
});

const allowedModelsOf = (viewer: Viewer) => (viewer.kind === 'apiKey' ? viewer.apiKey.allowedModels : null);

/** A key limited to some models may use only those. */
function assertModelAllowed(viewer: Viewer, model: Model): void {
  const allowed = allowedModelsOf(viewer);
  if (allowed && !allowed.includes(model.id)) {
    throw new ForbiddenError(`this API key may only use ${allowed.join(', ')}; ask the admin to allow ${model.id}`);
  }
}

/**
 * The fallback a completion of `model` may switch to (see fallback-model.ts),
 * at the prices it reserved at, `model`'s as of the start: `models` is the
 * catalogue at the start or at the switch. For a key limited to some models,
 * only one of those.
 */
function fallbackFor(viewer: Viewer, model: Model, models: readonly Model[], maxTokens: number): Model | undefined {
  const now = models.find((m) => m.id === model.id);
  const fallback = now && usableFallback(now, models, model, maxTokens);
  const allowed = allowedModelsOf(viewer);
  return fallback && (!allowed || allowed.includes(fallback.id)) ? fallback : undefined;
}

/** A start's completion, and where the key's requestsPerMinute window stands after it (null: not counted, or no limit). */
export interface Started {
  completion: Completion;
  rateWindow: RateWindow | null;
}

/** How long a cancel sent to another instance waits for the completion to settle there. */
const REMOTE_CANCEL_WAIT_MS = 10_000;

export interface CompletionServiceDeps {
  db: Database;
  catalogue: CatalogueCache;
  /** The upstream with its retries, fallbacks and circuit breakers. */
  upstream: ResilientUpstream;
  events: CompletionEventLog;
  control: CompletionControl;
  balances: BalanceFeed;
  observer: CompletionObserver;
  /** Records each completion's milestones in its trace (a no-op when tracing is off). */
  tracer: CompletionTracer;
  rateLimiter: RateLimiter;
  /** Ends the streams of keys that are revoked or expire. */
  keyWatch: KeyWatch;
  /** The longest a completion may run before it is cut (MAX_COMPLETION_DURATION_MS). */
  maxDurationMs: number;
  /** After this (from its start), a completion not settled yet is left to the overdue sweep. */
  overdueAfterMs: number;
  /** This process's registration: completions it starts carry it. */
  instanceId: string;
  logger: Logger;
}

/**
 * Runs completions: validation, reservation, the upstream stream, events,
 * settlement. One instance per process; it owns the completions it started
 * until they settle.
 */
export class CompletionService {
  private readonly running = new Map<string, LiveCompletion>();
  private readonly stopReasons = new WeakMap<LiveCompletion, StopReason>();
  private readonly settled = new Set<Promise<void>>();
  /** Set when a shutdown stopped waiting for settlements: their retries end. */
  private abandonSettlements = false;
  /** Set when the process stops: no new completion starts. */
  private draining = false;
  private readonly starting = new Set<Promise<unknown>>();

  private readonly db: Database;
  private readonly catalogue: CatalogueCache;
  private readonly upstream: ResilientUpstream;
  private readonly events: CompletionEventLog;
  private readonly control: CompletionControl;
  private readonly balances: BalanceFeed;
  private readonly observer: CompletionObserver;
  private readonly tracer: CompletionTracer;
  private readonly rateLimiter: RateLimiter;
  private readonly keyWatch: KeyWatch;
  private readonly maxDurationMs: number;
  private readonly overdueAfterMs: number;
  private readonly instanceId: string;
  private readonly logger: Logger;

  constructor(deps: CompletionServiceDeps) {
    this.db = deps.db;
    this.catalogue = deps.catalogue;
    this.upstream = deps.upstream;
    this.events = deps.events;
    this.control = deps.control;
    this.balances = deps.balances;
    this.observer = deps.observer;
    this.tracer = deps.tracer;
    this.rateLimiter = deps.rateLimiter;
    this.keyWatch = deps.keyWatch;
    this.maxDurationMs = deps.maxDurationMs;
    this.overdueAfterMs = deps.overdueAfterMs;
    this.instanceId = deps.instanceId;
    this.logger = deps.logger;
    this.control.onCancel((id) => this.abortRunning(id, 'cancel'));
    this.events.onLost((id) => this.abortRunning(id, 'lost'));
  }

  /**
   * Validates, reserves the worst case and starts streaming; returns the
   * PENDING completion at once. A retry with the same idempotency key returns
   * the first completion and reserves nothing more.
   */
  async start(viewer: Viewer, input: StartInput): Promise<Completion> {
    return (await this.started(viewer, input)).completion;
  }

  private async started(viewer: Viewer, input: StartInput): Promise<Started> {
    if (this.draining) throw new UnavailableError('this server is shutting down; retry the request, it will reach another instance or the restarted one');
    // A start that passed the check above is waited for by stop(), so that
    // what it reserves is streamed and settled before the process ends.
    const starting = this.reserveAndLaunch(viewer, input);
    this.starting.add(starting);
    try {
      return await starting;
    } finally {
      this.starting.delete(starting);
    }
  }

  private async reserveAndLaunch(viewer: Viewer, input: StartInput): Promise<Started> {
    const accountId = accountFor(viewer, input.accountId);
    const idempotencyKey = validateIdempotencyKey(input.idempotencyKey);
    const { model, request: validated } = await this.validated(input);
    let request = validated;
    // The fingerprint is of the request as asked for, so that a retry matches
    // it even when the start lowered maxTokens below. Only a start with an
    // idempotency key has a retry to match (and a large prompt takes a while to hash).
    const fingerprint = idempotencyKey ? fingerprintOf(request) : null;
    const earlier = () => (idempotencyKey && fingerprint ? this.earlierStart(accountId, idempotencyKey, fingerprint) : Promise.resolve(undefined));
    const retried = await earlier();
    if (retried) return { completion: retried, rateWindow: null };
    assertModelAllowed(viewer, model);
    // Before the start is counted and anything is reserved: a model whose
    // circuit breaker is open (and its fallback's too) is refused at once.
    // The switch takes the start's fallback at its start prices, like every
    // price of a completion, if the catalogue still has it by then.
    const fallback = fallbackFor(viewer, model, await this.catalogue.models(), request.maxTokens);
    const fallbackAtSwitch = async () => (fallbackFor(viewer, model, await this.catalogue.models(), request.maxTokens)?.id === fallback?.id ? fallback : undefined);
    const route = this.upstream.route(model, fallback, fallbackAtSwitch);
    let launched = false;
    let trace: CompletionTrace | undefined;
    let counted: RateWindow | null = null;
    try {
      const rateWindow = viewer.kind === 'apiKey' ? await this.countStart(viewer.apiKey) : null;
      counted = rateWindow;
      let completion: Completion = {
        id: randomUUID(),
        accountId,
        apiKeyId: viewer.kind === 'apiKey' ? viewer.apiKey.id : null,
        modelId: model.id,
        status: 'PENDING',
        request,
        requestFingerprint: fingerprint,
        inputPricePerMillion: model.inputPricePerMillion,
        outputPricePerMillion: model.outputPricePerMillion,
        cacheReadPricePerMillion: model.cacheReadPricePerMillion,
        cacheWritePricePerMillion: model.cacheWritePricePerMillion,
        reserved: worstCaseCost(request, model),
        content: '',
        toolCalls: null,
        eventLog: null,
        finishReason: null,
        promptTokens: null,
        completionTokens: null,
        cachedPromptTokens: null,
        cacheWriteTokens: null,
        usageEstimated: null,
        cost: null,
        answeredModelId: null,
        errorCode: null,
        errorMessage: null,
        errorRetryAfterSeconds: null,
        idempotencyKey,
        instanceId: this.instanceId,
        createdAt: new Date(),
        firstTokenAt: null,
        finishedAt: null,
      };
      trace = this.tracer.started({ completionId: completion.id, accountId, apiKeyId: completion.apiKeyId, model: model.id, maxTokens: request.maxTokens });

      let reservation = await this.reserve(completion, earlier, trace);
      // Asked to fit (see max-tokens-fitting.ts), and the exact worst case was
      // more than the account or key can hold: one more reservation, lowered.
      const fitting = input.fitMaxTokensToCredits === true && (reservation.type === 'insufficient-credits' || reservation.type === 'spend-limit');
      if (fitting) {
        const fitted = await fitToCredits(this.db, completion, request);
        if (fitted) {
          ({ completion, request } = fitted);
          reservation = await this.reserve(completion, earlier, trace);
        }
      }
      const worstCase = fitting
        ? request.maxTokens <= MIN_FITTED_MAX_TOKENS
          ? say`this completion needs ${formatMoney(completion.reserved)} credits (prompt plus ${field('maxTokens')} at ${model.id}'s prices)`
          : say`this completion needs at least ${formatMoney(leastFittedReservation(request, model))} credits (its prompt plus ${MIN_FITTED_MAX_TOKENS} output tokens, the least ${field('maxTokens')} is lowered to, at ${model.id}'s prices)`
        : say`this completion may cost up to ${formatMoney(completion.reserved)} credits (prompt plus ${field('maxTokens')} at ${model.id}'s prices)`;
      switch (reservation.type) {
        case 'earlier':
          trace.answeredByEarlier(reservation.completion.id);
          return { completion: reservation.completion, rateWindow };
        case 'insufficient-credits':
          // Only the admin names an account, which may not exist.
          if (viewer.kind === 'admin' && !(await findAccount(this.db, accountId))) throw new NotFoundError(`no account ${accountId}`);
          throw new InsufficientCreditsError([...worstCase, ...say` and the account has less available; add credits or lower ${field('maxTokens')}`]);
        case 'spend-limit':
          throw new SpendLimitExceededError([
            ...worstCase,
            ...say`; this API key has ${formatMoney(reservation.committed)} of its ${formatMoney(reservation.limit)} spend limit spent or reserved; lower ${field('maxTokens')} or ask the admin to raise the limit`,
          ]);
        case 'too-many-streams':
          throw new RateLimitedError(`this API key may run ${reservation.limit} completions at once; wait for one to finish`, 1);
        case 'reserved':
          break;
      }
      this.balances.publish(completion.accountId);
      launched = true;
      await this.launch(completion, request, route, trace);
      return { completion, rateWindow };
    } catch (error) {
      // After the launch the run owns the trace, and ends it when it settles.
      if (!launched) trace?.refused(error instanceof DomainError ? error.code : 'INTERNAL');
      throw error;
    } finally {
      // A start that reserved nothing, or returned an earlier completion, makes no call.
      if (!launched) route.permit.released();
      // ... and started no completion: requestsPerMinute does not count it
      // (a client that waits out a refusal's retry-after is not locked out).
      if (!launched && counted && viewer.kind === 'apiKey') {
        this.rateLimiter.undo(viewer.apiKey.id, counted).catch((error: unknown) => this.logger.warn({ err: error }, 'could not give back a refused start to its rate window'));
      }
    }
  }

  /** The model and upstream request of a valid input. */
  private async validated(input: CompletionRequestInput): Promise<{ model: Model; request: UpstreamRequest }> {
    const model = await this.catalogue.find(input.model);
    const request = buildUpstreamRequest(input, model);
    if (!model) throw new Error('unreachable: validation accepted a missing model');
    return { model, request };
  }

  /**
   * The prompt tokens a request would be estimated at (the estimate charged
   * when the upstream reports no usage), without starting anything or
   * touching credits: what a face's token-counting endpoint answers. The
   * request is validated as for a start, and the viewer must be signed in
   * and allowed the model.
   */
  async countPromptTokens(viewer: Viewer, input: CompletionRequestInput): Promise<number> {
    assertSignedIn(viewer);
    const { model, request } = await this.validated(input);
    assertModelAllowed(viewer, model);
    return estimatedPromptTokens(request);
  }

  /** One reservation (see runReservation), a step of the completion's trace. */
  private async reserve(completion: Completion, earlier: () => Promise<Completion | undefined>, trace: CompletionTrace): Promise<ReserveOutcome | { type: 'earlier'; completion: Completion }> {
    const step = trace.reserving(completion.reserved);
    try {
      const outcome = await this.runReservation(completion, earlier);
      step.ended(outcome.type);
      return outcome;
    } catch (error) {
      step.ended('error');
      throw error;
    }
  }

  /**
   * Runs the reservation statement. A start with an idempotency key that lost
   * a race to the first start with the same key gets that completion
   * ('earlier'), whether it lost on the unique key or only because the first
   * one holds the credits.
   */
  private async runReservation(completion: Completion, earlier: () => Promise<Completion | undefined>): Promise<ReserveOutcome | { type: 'earlier'; completion: Completion }> {
    let outcome: ReserveOutcome;
    try {
      outcome = await insertReserved(this.db, completion);
    } catch (error) {
      if (completion.idempotencyKey && sqlStateOf(error) === UNIQUE_VIOLATION) {
        const first = await earlier();
        if (first) return { type: 'earlier', completion: first };
      }
      throw error;
    }
    if (outcome.type !== 'reserved') {
      const first = await earlier();
      if (first) return { type: 'earlier', completion: first };
    }
    return outcome;
  }

  /**
   * The completion an idempotency key already started, if any. The same key
   * with a different request is refused: answering it with the other
   * request's completion would hand the caller an answer to a question it
   * did not ask.
   */
  private async earlierStart(accountId: string, idempotencyKey: string, fingerprint: string): Promise<Completion | undefined> {
    const earlier = await findByIdempotencyKey(this.db, accountId, idempotencyKey);
    if (earlier && earlier.requestFingerprint !== fingerprint) throw new IdempotencyKeyReusedError(earlier.id);
    return earlier;
  }

  /**
   * requestsPerMinute counts completions started, on every face, however
   * many a request starts (aliased mutations); an idempotent retry that
   * returns the first completion starts none. Returns where the key's
   * window stands after this start (null for a key without the limit), and
   * a refusal carries it too: the REST faces report both in headers.
   */
  private async countStart(apiKey: ApiKey): Promise<RateWindow | null> {
    if (apiKey.requestsPerMinute === null) return null;
    const { allowed, ...window } = await this.rateLimiter.hit(apiKey.id, apiKey.requestsPerMinute);
    if (!allowed) {
      const retryAfterSeconds = secondsUntilReset(window);
      throw new RateLimitedError(`this API key may start ${apiKey.requestsPerMinute} completions per minute; retry in ${retryAfterSeconds} s`, retryAfterSeconds, window);
    }
    return window;
  }

  /** Resolves once the completion's log is open, so a subscriber on any instance finds it. */
  private launch(completion: Completion, request: UpstreamRequest, route: UpstreamRoute, trace: CompletionTrace): Promise<void> {
    const live = new LiveCompletion(completion, request, this.events, trace);
    this.running.set(completion.id, live);
    // The completion runs even if its log could not be opened: it is charged
    // and settled in Postgres, and replays read it from there.
    const opened = this.events.open(completion.id).catch((error: unknown) => this.logger.error({ err: error, completionId: completion.id }, 'could not open the completion event log'));
    const done = this.run(live, route)
      .catch((error: unknown) => this.logger.error({ err: error, completionId: completion.id }, 'completion run failed'))
      .finally(() => {
        this.running.delete(completion.id);
        this.settled.delete(done);
      });
    this.settled.add(done);
    return opened;
  }

  private async run(live: LiveCompletion, route: UpstreamRoute): Promise<void> {
    const { completion } = live;
    const log = this.logger.child({ completionId: completion.id, model: completion.modelId });
    log.info('completion started');
    let failure: UpstreamError | undefined;
    // The upstream is not trusted to stop: past its time bound the run ends
    // as if cut for length (see settlementOf).
    const bound = setTimeout(() => this.abortRunning(completion.id, 'duration'), this.maxDurationMs);
    try {
      for await (const chunk of this.upstream.stream(live, route, live.abort.signal, log, live.trace)) {
        // Leaving the loop closes the upstream request.
        if (!live.accept(chunk)) break;
      }
    } catch (error) {
      failure = error instanceof UpstreamError ? error : new UpstreamError('network', 'the upstream stream broke', { cause: error });
    } finally {
      clearTimeout(bound);
    }
    if (live.cutAtMaxTokens) log.warn({ maxTokens: live.request.maxTokens }, 'the upstream went past maxTokens; cut there');
    live.settling = true;
    live.flush();
    const settling = live.trace.settling();
    const ending = { failure, stop: this.stopReasons.get(live), maxDurationMs: this.maxDurationMs };
    const onCapped = (cost: bigint) => log.warn({ cost: formatMoney(cost), reserved: formatMoney(completion.reserved) }, 'usage exceeded the reservation; charging the reservation');
    const settlement = settlementOf(live, ending, onCapped);
    let applied: Settlement | undefined;
    let settledRow: Completion;
    try {
      applied = await this.settleWithRetry(completion, settlement, log);
      // Settled elsewhere already (swept as overdue, or as an instance's that
      // looked dead): the stored row is the truth subscribers must see.
      settledRow = applied
        ? { ...completion, ...applied, cost: applied.charge }
        : ((await findCompletion(this.db, completion.id)) ?? { ...completion, ...settlement, cost: settlement.charge });
    } catch (error) {
      // The overdue sweep settles it later, outside this trace.
      settling.ended('unsettled');
      throw error;
    }
    if (!applied) log.warn({ status: settledRow.status }, 'completion was already settled elsewhere');
    settling.ended(applied ? tracedSettlement(applied, true) : tracedSettlement({ ...settledRow, charge: settledRow.cost ?? 0n }, false));
    live.finish(settledRow);
    if (applied) {
      log.info(
        { status: applied.status, promptTokens: applied.promptTokens, completionTokens: applied.completionTokens, charged: formatMoney(applied.charge), error: applied.errorCode },
        'completion settled',
      );
      this.observer.settled(completion, applied);
      this.balances.publish(completion.accountId);
    }
  }

  /**
   * Settles, retrying while Postgres is unreachable (a restart, a failover)
   * until the completion is overdue, when the sweep ends it (see
   * InstanceRegistration): so a completion does not stay running with its
   * credits held because of one failed statement. A settlement Postgres
   * refuses for its data is written again without the answer's text (the
   * money, status and usage are what must not be lost; subscribers already
   * received the text). Settling twice is harmless: the statement only
   * touches a row that is still running. Resolves to what was written, or
   * undefined when the row was settled elsewhere.
   */
  private async settleWithRetry(completion: Completion, settlement: Settlement, log: Logger): Promise<Settlement | undefined> {
    const deadline = completion.createdAt.getTime() + this.overdueAfterMs;
    let attempt = settlement;
    for (let tries = 1; ; tries++) {
      try {
        return (await settle(this.db, completion, attempt)) ? attempt : undefined;
      } catch (error) {
        if (isDataError(error) && attempt === settlement) {
          log.error({ err: error }, 'the settlement was refused for its data; settling without the answer text');
          attempt = withoutText(settlement);
          continue;
        }
        if (Date.now() >= deadline || this.abandonSettlements) throw error;
        log.warn({ err: error, attempt: tries }, 'settlement failed; retrying');
        // Unref'd: a shutdown that gave up on this settlement does not wait for its retry.
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** tries, 8_000, Math.max(0, deadline - Date.now()))).unref());
      }
    }
  }

  /**
   * Stops the runs of completions that were ended elsewhere (swept as
   * overdue, or as an instance's that looked dead): the owner must not go
   * on streaming what nobody will be charged for.
   */
  async abortLost(): Promise<void> {
    // A run that is settling has its row settled by itself any moment now.
    const streaming = () => [...this.running.values()].filter((live) => !live.settling).map((live) => live.completion.id);
    const ids = streaming();
    if (ids.length === 0) return;
    const lost = new Set(await settledAmong(this.db, ids));
    for (const id of streaming().filter((id) => lost.has(id))) {
      this.logger.warn({ completionId: id }, 'this completion was ended elsewhere while it ran here; stopping it');
      this.abortRunning(id, 'lost');
    }
  }

  /**
   * Aborts the upstream request of a running completion; it settles as
   * CANCELLED. Cancelling a settled completion returns it unchanged.
   */
  async cancel(viewer: Viewer, id: string): Promise<Completion> {
    const completion = await this.find(viewer, id);
    if (!activeStatuses.includes(completion.status)) return completion;
    // Another instance may run it (several instances share Redis): ask it.
    if (!this.abortRunning(completion.id, 'cancel')) await this.control.requestCancel(completion.id);
    await this.settledOf(completion.id, REMOTE_CANCEL_WAIT_MS);
    return (await findCompletion(this.db, completion.id)) ?? completion;
  }

  private abortRunning(id: string, reason: StopReason): boolean {
    const live = this.running.get(id);
    if (!live) return false;
    this.stopReasons.set(live, reason);
    live.abort.abort();
    return true;
  }

  /** Waits, at most `timeoutMs`, for the completion's log to end. */
  private async settledOf(id: string, timeoutMs: number): Promise<void> {
    const iterator = await this.events.read(id, Number.MAX_SAFE_INTEGER - 1);
    if (!iterator) return;
    // The log ends with the terminal event, which is appended after the
    // settlement committed; waiting for the log to end waits for that. An
    // owner that died never ends it: its orphan sweep settles the row later.
    const timer = setTimeout(() => void iterator.return?.(), timeoutMs);
    try {
      for await (const _ of { [Symbol.asyncIterator]: () => iterator }) void _;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A completion the viewer may see, or NOT_FOUND / FORBIDDEN. */
  async find(viewer: Viewer, id: string): Promise<Completion> {
    // One running here is known without a query (its row changes only when it settles).
    const completion = this.running.get(id)?.completion ?? (await findCompletion(this.db, id));
    if (!completion) throw new NotFoundError(`no completion ${id}`);
    assertAccountAccess(viewer, completion.accountId);
    return completion;
  }

  /** The completion as it is now (see `current`), or null when there is none. */
  async get(viewer: Viewer, id: string): Promise<Completion | null> {
    const completion = await findCompletion(this.db, id);
    if (!completion) return null;
    assertAccountAccess(viewer, completion.accountId);
    return this.current(completion);
  }

  /** Several completions by id in one statement, in the order asked (null where there is none). */
  async findMany(viewer: Viewer, ids: readonly string[]): Promise<(Completion | null)[]> {
    const missing = ids.filter((id) => !this.running.has(id));
    const stored = new Map((missing.length > 0 ? await findCompletions(this.db, missing) : []).map((c) => [c.id, c]));
    return ids.map((id) => {
      const completion = this.running.get(id)?.completion ?? stored.get(id);
      if (!completion) return null;
      assertAccountAccess(viewer, completion.accountId);
      return completion;
    });
  }

  /** A page of each account's completions, newest first, each as it is now: one statement for all. */
  async listOf(viewer: Viewer, accountIds: readonly string[], page: PageRequest): Promise<Completion[][]> {
    assertAccountsAccess(viewer, accountIds);
    const pages = await listCompletionsOf(this.db, accountIds, page);
    return Promise.all(pages.map((completions) => Promise.all(completions.map((c) => this.current(c)))));
  }

  countOf(viewer: Viewer, accountIds: readonly string[]): Promise<number[]> {
    assertAccountsAccess(viewer, accountIds);
    return countCompletionsOf(this.db, accountIds);
  }

  /**
   * The completion as it is now: a running one shows STREAMING and its text
   * so far from the event log (the row is only written at start and end).
   */
  private async current(completion: Completion): Promise<Completion> {
    if (!activeStatuses.includes(completion.status)) return completion;
    const events = await this.events.snapshot(completion.id);
    if (!events || events.length === 0) return completion;
    const last = events[events.length - 1];
    if (last?.completion) return last.completion;
    let content = '';
    const toolCalls = new ToolCallAssembler();
    for (const event of events) {
      content += event.delta;
      if (event.toolCallDeltas) toolCalls.add(event.toolCallDeltas);
    }
    return { ...completion, status: 'STREAMING', content, toolCalls: toolCalls.result() };
  }

  /**
   * Every event with an index above `after`, in order, then the live ones,
   * ending with the terminal event: from the live log while it lasts, from
   * the settled row after. A key's stream ends early when the key is
   * revoked (KeyWatch); the completion itself runs on.
   */
  async stream(viewer: Viewer, id: string, after: number | null | undefined): Promise<GuardedStream<CompletionEvent>> {
    const from = after ?? -1;
    if (!Number.isInteger(from) || from < -1) throw new BadInputError(['after'], 'must be an event index (0 or more), or omitted');
    const slot = this.keyWatch.claim(viewer);
    try {
      return slot.guard(await this.follow(await this.find(viewer, id), from));
    } catch (error) {
      slot.release();
      throw error;
    }
  }

  /**
   * Starts a completion (as `start`) and follows its events from the first:
   * what a face that answers with the stream itself needs, with where the
   * key's requestsPerMinute window stands after the start.
   */
  async startStreaming(viewer: Viewer, input: StartInput): Promise<Started & { events: GuardedStream<CompletionEvent> }> {
    // The stream's place is held before the start: a start whose stream
    // would be refused must not run, nor be charged.
    const slot = this.keyWatch.claim(viewer);
    try {
      const { completion, rateWindow } = await this.started(viewer, input);
      return { completion, rateWindow, events: slot.guard(await this.follow(completion, -1)) };
    } catch (error) {
      slot.release();
      throw error;
    }
  }

  /** The events of a completion already read (and access-checked). */
  private async follow(read: Completion, after: number): Promise<AsyncIterable<CompletionEvent>> {
    let completion = read;
    for (let attempt = 0; attempt < 2; attempt++) {
      const live = await this.events.read(completion.id, after);
      if (live) return live;
      if (!activeStatuses.includes(completion.status)) return replayFromRow(completion, after);
      // It may have settled and left the live log since the row was read.
      completion = (await findCompletion(this.db, completion.id)) ?? completion;
    }
    throw new NotFoundError(
      'this completion runs on another server instance and its events are not shared here; configure REDIS_URL so instances share events',
    );
  }

  /**
   * Ends the event logs of completions a sweep settled as INTERRUPTED
   * (their owner died, or they outlived their bound), so that waiting
   * subscribers end too.
   * One by one: a completion whose log cannot be ended must not leave the
   * others' subscribers waiting.
   */
  async endInterrupted(ids: readonly string[]): Promise<void> {
    this.logger.warn({ completionIds: ids }, 'completions left running by a stopped process, or past their time bound, were interrupted and released');
    for (const id of ids) {
      try {
        const completion = await findCompletion(this.db, id);
        if (!completion) continue;
        await this.events.end(completion);
        this.balances.publish(completion.accountId);
      } catch (error) {
        this.logger.warn({ err: error, completionId: id }, 'could not end the event stream of an interrupted completion');
      }
    }
  }

  /**
   * Graceful stop: refuses new starts, waits up to `deadlineMs` for running
   * completions to end, then cancels the rest (error SHUTDOWN, charged for
   * what was generated) and waits for their settlement, up to `deadlineMs`
   * more. Nothing is left PENDING or STREAMING but a completion whose
   * settlement could not be written by then (see the end of stop).
   */
  async stop(deadlineMs: number): Promise<void> {
    this.draining = true;
    await Promise.allSettled([...this.starting]);
    const all = Promise.allSettled([...this.settled]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    for (const live of this.running.values()) {
      this.stopReasons.set(live, 'shutdown');
      live.abort.abort();
    }
    // A settlement that cannot be written (Postgres gone) would hold the
    // process until its overdue bound: after a second deadline its rows
    // are left running, and the sweep of the next start ends them
    // INTERRUPTED with their reservations released.
    const settledAll = await Promise.race([
      Promise.allSettled([...this.settled]).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, deadlineMs, false))),
    ]);
    clearTimeout(timer);
    if (!settledAll) {
      this.abandonSettlements = true;
      this.logger.warn({ unsettled: this.running.size }, 'completions could not be settled before the shutdown; the next start ends them INTERRUPTED');
    }
  }
}
