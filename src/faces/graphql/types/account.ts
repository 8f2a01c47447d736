import { accountCursor, type Account } from '../../../domain/accounts/account-record.js';
import { ledgerCursor } from '../../../domain/credits/ledger.js';
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
      resolve: (a, _args, { loaders }) => loaders.apiKeysOf.load(a.id),
    }),
    ledger: t.connection(
      {
        type: LedgerEntryRef,
        description: 'Newest first.',
        resolve: (a, args, { loaders }) =>
          connectionOf(
            args,
            (page) => loaders.ledgerOf(page).load(a.id),
            (e) => ledgerCursor(e),
            () => loaders.ledgerCount.load(a.id),
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
    resolve: (_root, _args, { viewer, domain }) => domain.accounts.ofViewer(viewer),
  }),
  account: t.field({
    type: AccountRef,
    nullable: true,
    description: 'Admin: any account. A key: its own only.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { viewer, domain }) => domain.accounts.get(viewer, String(id)),
  }),
  accounts: t.connection(
    {
      type: AccountRef,
      description: 'Admin: every account, oldest first.',
      resolve: (_root, args, { viewer, domain }) =>
        connectionOf(
          args,
          (page) => domain.accounts.list(viewer, page),
          (a) => accountCursor(a),
          () => domain.accounts.count(viewer),
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
    args: { input: t.arg({ type: CreateAccountInput, required: true }) },
    resolve: (_root, { input }, { viewer, domain }) => domain.accounts.create(viewer, input),
  }),
);
