import { createApiKey, findApiKey, revokeApiKey, type ApiKey } from '../../domain/api-keys.js';
import { BadInputError, NotFoundError } from '../../domain/errors.js';
import { assertAccountAccess } from '../../domain/viewer.js';
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
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    accountId: t.id({ description: 'Admin only (and then required): the account the key belongs to.' }),
  }),
});

const CreateApiKeyPayload = builder
  .objectRef<{ apiKey: ApiKey; secret: string }>('CreateApiKeyPayload')
  .implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.apiKey }),
      secret: t.exposeString('secret', { description: 'The whole key (th-…). Store it now: it is never shown again.' }),
    }),
  });

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    authScopes: { signedIn: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, { viewer, services }) => {
      const accountId = input.accountId ?? (viewer.kind === 'apiKey' ? viewer.accountId : undefined);
      if (!accountId) throw new BadInputError('the admin must give the accountId the key belongs to', 'accountId');
      assertAccountAccess(viewer, String(accountId));
      return createApiKey(services.db, services.hasher, { accountId: String(accountId), name: input.name });
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: 'Revoke a key at once. Revoking a revoked key changes nothing.',
    authScopes: { signedIn: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, { viewer, services }) => {
      const key = await findApiKey(services.db, String(id));
      if (!key) throw new NotFoundError(`no API key ${id}`);
      assertAccountAccess(viewer, key.accountId);
      return revokeApiKey(services.db, key.id);
    },
  }),
}));
