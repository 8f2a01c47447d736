import type { Model } from '../../../domain/catalogue/model.js';
import { builder } from '../builder.js';

export const ModelRef = builder.objectRef<Model>('Model');

ModelRef.implement({
  description: 'A Claude model with its price. Prices are credits (USD) per million tokens.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'e.g. "anthropic/claude-sonnet-4-6"' }),
    name: t.exposeString('name', { description: 'e.g. "Sonnet 4.6"' }),
    aliases: t.exposeStringList('aliases', { description: 'Other names accepted wherever a model is named, e.g. "claude-sonnet-4-6".' }),
    inputPricePerMillion: t.field({ type: 'Money', resolve: (m) => m.inputPricePerMillion }),
    outputPricePerMillion: t.field({ type: 'Money', resolve: (m) => m.outputPricePerMillion }),
    cacheReadPricePerMillion: t.field({ type: 'Money', description: "Prompt tokens read from the upstream's prompt cache (default 0.1× the input price).", resolve: (m) => m.cacheReadPricePerMillion }),
    cacheWritePricePerMillion: t.field({ type: 'Money', description: "Prompt tokens written to the upstream's prompt cache (default 1.25× the input price).", resolve: (m) => m.cacheWritePricePerMillion }),
    description: t.exposeString('description', { nullable: true }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled models refuse new completions.' }),
    recommended: t.exposeBoolean('recommended', { description: 'The default choice for new integrations.' }),
    maxOutputTokens: t.exposeInt('maxOutputTokens', { description: 'The largest maxTokens a completion may ask for.' }),
    fallbackModel: t.field({
      type: ModelRef,
      nullable: true,
      description: 'Answers completions of this model when it keeps failing before any output (retries exhausted, or its circuit breaker open); never priced above it.',
      resolve: (m, _args, { loaders }) => (m.fallbackModelId ? loaders.model.load(m.fallbackModelId) : null),
    }),
  }),
});

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    description: 'Every model with its price, disabled ones included. No token needed.',
    resolve: (_root, _args, { domain }) => domain.catalogue.list(),
  }),
  model: t.field({
    type: ModelRef,
    nullable: true,
    description: 'A model by id or alias; null when there is none. No token needed.',
    args: { id: t.arg.string({ required: true }) },
    resolve: async (_root, { id }, { domain }) => (await domain.catalogue.find(id)) ?? null,
  }),
}));

const UpdateModelInput = builder.inputType('UpdateModelInput', {
  fields: (t) => ({
    id: t.string({ required: true, description: 'Model id or alias.' }),
    inputPricePerMillion: t.field({ type: 'Money' }),
    outputPricePerMillion: t.field({ type: 'Money' }),
    cacheReadPricePerMillion: t.field({ type: 'Money', description: 'Not changed with inputPricePerMillion: set it too.' }),
    cacheWritePricePerMillion: t.field({ type: 'Money', description: 'Not changed with inputPricePerMillion: set it too.' }),
    enabled: t.boolean(),
    recommended: t.boolean(),
    description: t.string(),
    maxOutputTokens: t.int(),
    aliases: t.stringList({ description: 'Replaces the aliases: each names this model on every face and must not name another model.' }),
    fallbackModel: t.string({ description: 'Id or alias of another enabled model, priced no higher on any price, whose fallbacks do not lead back here; null removes it.' }),
  }),
});

builder.mutationField('updateModel', (t) =>
  t.field({
    type: ModelRef,
    description: 'Admin: change prices, limits, aliases, the fallback or availability. Running completions keep the prices they started with.',
    args: { input: t.arg({ type: UpdateModelInput, required: true }) },
    resolve: (_root, { input }, { viewer, domain }) =>
      domain.catalogue.update(viewer, input.id, {
        inputPricePerMillion: input.inputPricePerMillion ?? undefined,
        outputPricePerMillion: input.outputPricePerMillion ?? undefined,
        cacheReadPricePerMillion: input.cacheReadPricePerMillion ?? undefined,
        cacheWritePricePerMillion: input.cacheWritePricePerMillion ?? undefined,
        enabled: input.enabled ?? undefined,
        recommended: input.recommended ?? undefined,
        description: input.description,
        maxOutputTokens: input.maxOutputTokens ?? undefined,
        aliases: input.aliases ?? undefined,
        fallbackModel: input.fallbackModel,
      }),
  }),
);
