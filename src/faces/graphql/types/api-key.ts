import type { ApiKey } from '../../../domain/api-keys/api-key-record.js';
import type { CreatedApiKey } from '../../../domain/api-keys/api-key-service.js';
import { builder } from '../builder.js';

export const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey').implement({
  description: 'An API key. Its secret is shown once, by createApiKey, and never again.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.lastUsedAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'After this the key is refused.', resolve: (k) => k.expiresAt }),
    requestsPerMinute: t.exposeInt('requestsPerMinute', { nullable: true, description: 'Requests allowed per minute; null: no limit.' }),
    maxConcurrentStreams: t.exposeInt('maxConcurrentStreams', { nullable: true, description: 'Completions allowed to run at once; null: no limit.' }),
    spendLimit: t.field({ type: 'Money', nullable: true, description: 'Most this key may ever spend; null: no limit.', resolve: (k) => k.spendLimit }),
    spent: t.field({ type: 'Money', description: 'What completions started with this key were charged.', resolve: (k) => k.spent }),
    allowedModels: t.exposeStringList('allowedModels', { nullable: true, description: 'Model ids this key may use; null: all.' }),
    activeStreams: t.exposeInt('activeStreams', { description: 'Completions of this key running now.' }),
  }),
});

const ApiKeyLimitsInput = builder.inputType('ApiKeyLimitsInput', {
  description: 'Limits of a key. An absent field is left as it is; null means no limit.',
  fields: (t) => ({
    requestsPerMinute: t.int(),
    maxConcurrentStreams: t.int(),
    spendLimit: t.field({ type: 'Money' }),
    allowedModels: t.stringList({ description: 'Model ids or aliases.' }),
    expiresAt: t.field({ type: 'DateTime' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    accountId: t.id({ description: 'Admin only (and then required): the account the key belongs to.' }),
    limits: t.field({ type: ApiKeyLimitsInput }),
  }),
});

const UpdateApiKeyInput = builder.inputType('UpdateApiKeyInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    limits: t.field({ type: ApiKeyLimitsInput }),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<CreatedApiKey>('CreateApiKeyPayload')
  .implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.apiKey }),
      secret: t.exposeString('secret', { description: 'The whole key (th-…). Store it now: it is never shown again.' }),
    }),
  });

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: 'A new key for an account, with optional limits. A key without limits may create keys for its own account.',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, { viewer, domain }) =>
      domain.apiKeys.create(viewer, { ...input, accountId: input.accountId === null || input.accountId === undefined ? null : String(input.accountId) }),
  }),
  updateApiKey: t.field({
    type: ApiKeyRef,
    description: "Admin: rename a key or change its limits. Limits apply to the key's next requests.",
    args: { input: t.arg({ type: UpdateApiKeyInput, required: true }) },
    resolve: (_root, { input }, { viewer, domain }) => domain.apiKeys.update(viewer, { ...input, id: String(input.id) }),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: 'Revoke a key at once (a key with limits may only revoke itself). Revoking a revoked key changes nothing.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { viewer, domain }) => domain.apiKeys.revoke(viewer, String(id)),
  }),
}));
