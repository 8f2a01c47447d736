import { unlessEnded } from '../../../domain/access/key-watch.js';
import { builder } from '../builder.js';
import { AccountRef } from './account.js';

builder.subscriptionField('balance', (t) =>
  t.field({
    type: AccountRef,
    description: "The viewer's account (admin: the accountId given) now, then each time credits are granted, reserved or settled.",
    args: { accountId: t.arg.id({ description: 'Admin only (and then required).' }) },
    subscribe: (_root, { accountId }, { viewer, domain }) =>
      domain.accounts.followBalance(viewer, accountId === null || accountId === undefined ? null : String(accountId)),
    resolve: unlessEnded,
  }),
);
