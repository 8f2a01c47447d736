import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { createGraphQLError } from 'graphql-yoga';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { signedIn: boolean; admin: boolean };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    Money: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Check once when a subscription starts, not again on every event.
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      signedIn: context.viewer.kind !== 'anonymous',
      admin: context.viewer.kind === 'admin',
    }),
    unauthorizedError: (_parent, context) =>
      context.viewer.kind === 'anonymous'
        ? createGraphQLError('sign in: send "Authorization: Bearer <API key or admin token>"', {
            extensions: { code: 'UNAUTHENTICATED' },
          })
        : createGraphQLError('only the admin token may do this', {
            extensions: { code: 'FORBIDDEN' },
          }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
