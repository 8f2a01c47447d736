import type { LedgerEntry } from '../../../domain/credits/ledger.js';
import { builder } from '../builder.js';

export const LedgerKindRef = builder.enumType('LedgerKind', {
  values: {
    GRANT: { description: 'Credits added by the admin.' },
    CHARGE: { description: 'What a completion cost.' },
    REFUND: { description: 'Credits given back.' },
    ADJUSTMENT: { description: 'A correction by the admin.' },
  } as const,
});

export const LedgerEntryRef = builder.objectRef<LedgerEntry>('LedgerEntry').implement({
  description: 'One movement of credits. The ledger is append-only; an account balance is the sum of its entries.',
  fields: (t) => ({
    id: t.id({ resolve: (e) => e.id.toString() }),
    amount: t.field({ type: 'Money', resolve: (e) => e.amount }),
    balanceAfter: t.field({ type: 'Money', resolve: (e) => e.balanceAfter }),
    kind: t.field({ type: LedgerKindRef, resolve: (e) => e.kind }),
    note: t.exposeString('note', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

const GrantCreditsInput = builder.inputType('GrantCreditsInput', {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    amount: t.field({ type: 'Money', required: true, description: 'Credits to add, greater than zero.' }),
    note: t.string(),
    idempotencyKey: t.string({ description: 'A retry with the same key grants once and returns the same entry.' }),
  }),
});

builder.mutationField('grantCredits', (t) =>
  t.field({
    type: LedgerEntryRef,
    description: 'Admin: add prepaid credits to an account.',
    args: { input: t.arg({ type: GrantCreditsInput, required: true }) },
    resolve: (_root, { input }, { viewer, domain }) =>
      domain.credits.grant(viewer, {
        accountId: String(input.accountId),
        amount: input.amount,
        note: input.note,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
);
