import type { CompletionEvent } from '../../../domain/completions/completion-event.js';
import { completionCursor, type Completion } from '../../../domain/completions/completion-record.js';
import { maxTokensOf } from '../../../domain/completions/max-tokens-fitting.js';
import { builder } from '../builder.js';
import { AccountRef } from './account.js';
import { LedgerEntryRef } from './ledger-entry.js';
import { ModelRef } from './model.js';
import { connectionOf } from './pages.js';

const CompletionStatusRef = builder.enumType('CompletionStatus', {
  values: {
    PENDING: { description: 'Accepted and reserved; no token yet.' },
    STREAMING: { description: 'Tokens are arriving.' },
    SUCCEEDED: { description: 'Finished; charged from the usage.' },
    FAILED: { description: 'The upstream failed; nothing charged.' },
    CANCELLED: { description: 'Cancelled; charged for what was generated before.' },
    INTERRUPTED: { description: 'The server stopped while it ran; nothing charged, reservation released.' },
  } as const,
});

interface UsageShape {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  cacheWriteTokens: number;
  estimated: boolean;
}

const UsageRef = builder.objectRef<UsageShape>('Usage').implement({
  fields: (t) => ({
    promptTokens: t.exposeInt('promptTokens', { description: 'All prompt tokens, the cached reads and writes included.' }),
    completionTokens: t.exposeInt('completionTokens'),
    cachedPromptTokens: t.exposeInt('cachedPromptTokens', { description: "Of promptTokens: read from the upstream's prompt cache, charged at the model's cacheReadPricePerMillion." }),
    cacheWriteTokens: t.exposeInt('cacheWriteTokens', { description: "Of promptTokens: written to the upstream's prompt cache, charged at the model's cacheWritePricePerMillion." }),
    totalTokens: t.int({ resolve: (u) => u.promptTokens + u.completionTokens }),
    estimated: t.exposeBoolean('estimated', { description: 'True when the upstream reported no usage and the gateway estimated it (1 token per 4 bytes).' }),
  }),
});

const CompletionErrorRef = builder.objectRef<{ code: string; message: string; retryAfter: number | null }>('CompletionError').implement({
  fields: (t) => ({
    code: t.exposeString('code', { description: 'UPSTREAM_HTTP, UPSTREAM_REFUSED (the upstream refused the request as invalid), UPSTREAM_RATE_LIMITED, UPSTREAM_NETWORK, UPSTREAM_MALFORMED, UPSTREAM_TIMEOUT, CANCELLED, SHUTDOWN or INTERRUPTED.' }),
    message: t.exposeString('message'),
    retryAfter: t.exposeInt('retryAfter', {
      nullable: true,
      description: 'UPSTREAM_RATE_LIMITED: the seconds the upstream asked to wait (its retry-after, after the gateway had retried); null when it said none.',
    }),
  }),
});

export const CompletionRef = builder.objectRef<Completion>('Completion').implement({
  description: 'One chat completion: its state, text, usage and what it cost.',
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.field({ type: CompletionStatusRef, resolve: (c) => c.status }),
    model: t.field({ type: ModelRef, description: 'The model asked for; its prices were reserved.', resolve: (c, _args, { loaders }) => loaders.model.load(c.modelId) }),
    answeredModel: t.field({
      type: ModelRef,
      nullable: true,
      description: "The model that answered, once settled: `model`, or its fallback when `model` kept failing before any output (charged at the fallback's prices, never higher). Null when none answered.",
      resolve: (c, _args, { loaders }) => (c.answeredModelId ? loaders.model.load(c.answeredModelId) : null),
    }),
    content: t.exposeString('content', { description: 'The text so far, or the final text.' }),
    toolCalls: t.field({ type: 'JSON', nullable: true, description: 'OpenAI-style tool_calls, assembled.', resolve: (c) => c.toolCalls }),
    finishReason: t.exposeString('finishReason', { nullable: true, description: 'stop | length | tool_calls | content_filter' }),
    usage: t.field({
      type: UsageRef,
      nullable: true,
      resolve: (c) =>
        c.promptTokens === null || c.completionTokens === null
          ? null
          : {
              promptTokens: c.promptTokens,
              completionTokens: c.completionTokens,
              cachedPromptTokens: c.cachedPromptTokens ?? 0,
              cacheWriteTokens: c.cacheWriteTokens ?? 0,
              estimated: c.usageEstimated ?? false,
            },
    }),
    cost: t.field({ type: 'Money', nullable: true, description: 'What was charged, once settled.', resolve: (c) => c.cost }),
    reserved: t.field({ type: 'Money', description: 'The worst case held while it ran.', resolve: (c) => c.reserved }),
    maxTokens: t.int({
      description: 'The output limit it ran with: the maxTokens asked for, or lower when the start fitted it to the credits available (the Anthropic face does).',
      resolve: (c) => maxTokensOf(c),
    }),
    error: t.field({
      type: CompletionErrorRef,
      nullable: true,
      resolve: (c) => (c.errorCode ? { code: c.errorCode, message: c.errorMessage ?? '', retryAfter: c.errorRetryAfterSeconds } : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
    firstTokenAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.firstTokenAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.finishedAt }),
  }),
});

export const CompletionEventRef = builder.objectRef<CompletionEvent>('CompletionEvent').implement({
  description: 'One step of a completion stream. Indexes are 0, 1, 2, … without gaps; the last event has done = true.',
  fields: (t) => ({
    completionId: t.exposeID('completionId'),
    index: t.exposeInt('index'),
    delta: t.exposeString('delta', { nullable: true, description: 'Text since the previous event (several tokens when the reader fell behind).' }),
    toolCallDeltas: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.toolCallDeltas }),
    outputTokens: t.exposeInt('outputTokens', { description: 'Output tokens so far (estimated until the last event).' }),
    cost: t.field({ type: 'Money', description: 'Running cost (estimated until the last event, which carries the charge).', resolve: (e) => e.cost }),
    done: t.exposeBoolean('done'),
    completion: t.field({ type: CompletionRef, nullable: true, description: 'Set on the last event: the settled completion.', resolve: (e) => e.completion }),
  }),
});

builder.objectField(AccountRef, 'completions', (t) =>
  t.connection(
    {
      type: CompletionRef,
      description: 'Newest first.',
      resolve: (account, args, { loaders }) =>
        connectionOf(
          args,
          (page) => loaders.completionsOf(page).load(account.id),
          (c) => completionCursor(c),
          () => loaders.completionCount.load(account.id),
        ),
    },
    { name: 'CompletionConnection', fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount() }) }) },
  ),
);

builder.objectField(LedgerEntryRef, 'completion', (t) =>
  t.field({
    type: CompletionRef,
    nullable: true,
    description: 'The completion a CHARGE is for.',
    resolve: (entry, _args, { loaders }) => (entry.completionId ? loaders.completion.load(entry.completionId) : null),
  }),
);
