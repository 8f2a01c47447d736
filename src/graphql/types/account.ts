import {
  countAccounts,
  createAccount,
  findAccount,
  listAccounts,
  type Account,
} from '../../domain/accounts.js';
import { listApiKeys } from '../../domain/api-keys.js';
import { countLedger, listLedger } from '../../domain/credits.js';
import { assertAccountAccess } from '../../domain/viewer.js';
import { builder } from '../builder.js';
import { ApiKeyRef } from './api-key.js';
import { LedgerEntryRef } from './ledger-entry.js';
import { connectionOf } from './pages.js';

export const AccountRef = builder.objectRef<Account>('Account');

AccountRef.implement({
  description: 'A customer account: prepaid credits, API keys, ledger and completions.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    balance: t.field({
      type: 'Money',
      description: 'Settled credits: the sum of the ledger.',
      resolve: (a) => a.balance,
    }),
    reserved: t.field({
      type: 'Money',
      description: 'Credits held for completions that are still running.',
      resolve: (a) => a.reserved,
    }),
    available: t.field({
      type: 'Money',
      description: 'What new completions may reserve: balance − reserved.',
      resolve: (a) => a.balance - a.reserved,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    apiKeys: t.field({
      type: [ApiKeyRef],
      description: 'Newest first, revoked ones included.',
      resolve: (a, _args, { services }) => listApiKeys(services.db, a.id),
    }),
    ledger: t.connection(
      {
        type: LedgerEntryRef,
        description: 'Newest first.',
        resolve: (a, args, { services }) =>
          connectionOf(
            args,
            (page) => listLedger(services.db, a.id, page),
            (e) => e.id.toString(),
            () => countLedger(services.db, a.id),
          ),
      },
      { name: 'LedgerConnection', fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount() }) }) },
    ),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: AccountRef,
    nullable: true,
    description: "The calling key's account; null for the admin.",
    authScopes: { signedIn: true },
    resolve: async (_root, _args, { viewer, services }) =>
      viewer.kind === 'apiKey' ? ((await findAccount(services.db, viewer.accountId)) ?? null) : null,
  }),
  account: t.field({
    type: AccountRef,
    nullable: true,
    description: 'Admin: any account. A key: its own only.',
    authScopes: { signedIn: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, { viewer, services }) => {
      assertAccountAccess(viewer, String(id));
      return (await findAccount(services.db, String(id))) ?? null;
    },
  }),
  accounts: t.connection(
    {
      type: AccountRef,
      description: 'Admin: every account, oldest first.',
      authScopes: { admin: true },
      resolve: (_root, args, { services }) =>
        connectionOf(
          args,
          (page) => listAccounts(services.db, page),
          (a) => a.id,
          () => countAccounts(services.db),
        ),
    },
    { name: 'AccountConnection', fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount() }) }) },
  ),
}));

const CreateAccountInput = builder.inputType('CreateAccountInput', {
  fields: (t) => ({ name: t.string({ required: true }) }),
});

builder.mutationField('createAccount', (t) =>
  t.field({
    type: AccountRef,
    description: 'Admin: open an account with a zero balance.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateAccountInput, required: true }) },
    resolve: (_root, { input }, { services }) => createAccount(services.db, input.name),
  }),
);
