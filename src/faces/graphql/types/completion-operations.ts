import type { StartInput } from '../../../domain/completions/completion-service.js';
import { unlessEnded } from '../../../domain/access/key-watch.js';
import { builder } from '../builder.js';
import { CompletionEventRef, CompletionRef } from './completion.js';

const MessageInput = builder.inputType('MessageInput', {
  fields: (t) => ({
    role: t.string({ required: true, description: 'system, user, assistant or tool' }),
    content: t.field({ type: 'JSON', description: 'A string, or OpenAI content parts (text, image_url).' }),
    name: t.string(),
    toolCallId: t.string({ description: 'For role tool: the call it answers.' }),
    toolCalls: t.field({ type: 'JSON', description: 'For role assistant: the tool_calls it made.' }),
  }),
});

const CompletionInput = builder.inputType('CompletionInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: 'Model id or alias.' }),
    messages: t.field({ type: [MessageInput], required: true }),
    maxTokens: t.int({ description: 'Default 1024; at most the model’s maxOutputTokens.' }),
    temperature: t.float({ description: '0–1; not together with topP.' }),
    topP: t.float({ description: '0–1; not together with temperature.' }),
    stop: t.stringList({ description: 'At most 4 stop sequences.' }),
    tools: t.field({ type: 'JSON', description: 'OpenAI function definitions.' }),
    toolChoice: t.field({ type: 'JSON', description: '"auto", "none", "required" or { type: "function", function: { name } }.' }),
    responseFormat: t.field({ type: 'JSON', description: '{ "type": "json_object" } forces valid JSON.' }),
    user: t.string({ description: 'Your end-user id, passed upstream.' }),
    idempotencyKey: t.string({ description: 'A retry with the same key returns the same completion, charged once.' }),
    accountId: t.id({ description: 'Admin only (and then required): the account to run and charge it for.' }),
  }),
});

/** The domain's start input from the GraphQL one (IDs arrive as string | number). */
function startInputOf(input: typeof CompletionInput.$inferInput): StartInput {
  return { ...input, accountId: input.accountId === null || input.accountId === undefined ? null : String(input.accountId) };
}

builder.queryField('completion', (t) =>
  t.field({
    type: CompletionRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    description: 'A completion by id; null when there is none.',
    resolve: (_root, { id }, { viewer, domain }) => domain.completions.get(viewer, String(id)),
  }),
);

builder.mutationFields((t) => ({
  startCompletion: t.field({
    type: CompletionRef,
    description: 'Validates, reserves the worst-case cost and starts streaming from the upstream; returns at once. Follow it with completionStream. Must be the only field of its mutation.',
    args: { input: t.arg({ type: CompletionInput, required: true }) },
    resolve: (_root, { input }, { viewer, domain }) => domain.completions.start(viewer, startInputOf(input)),
  }),
  cancelCompletion: t.field({
    type: CompletionRef,
    description: 'Aborts the upstream request; charges what was generated before. A settled completion is returned unchanged.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { viewer, domain }) => domain.completions.cancel(viewer, String(id)),
  }),
}));

builder.subscriptionFields((t) => ({
  completionStream: t.field({
    type: CompletionEventRef,
    description: 'Every event with an index above `after` (all when omitted), in order, exactly once, then the last one (done = true). Works at any time, even after the end.',
    args: { id: t.arg.id({ required: true }), after: t.arg.int() },
    subscribe: (_root, { id, after }, { viewer, domain }) => domain.completions.stream(viewer, String(id), after),
    resolve: unlessEnded,
  }),
  streamCompletion: t.field({
    type: CompletionEventRef,
    description: 'Starts a completion and streams it in one operation (for frontends). The first event carries completionId.',
    args: { input: t.arg({ type: CompletionInput, required: true }) },
    subscribe: async (_root, { input }, { viewer, domain }) => (await domain.completions.startStreaming(viewer, startInputOf(input))).events,
    resolve: unlessEnded,
  }),
}));
