import { Repeater } from 'graphql-yoga';
import { findAccount, type Account } from '../../domain/accounts.js';
import { BadInputError, NotFoundError } from '../../domain/errors.js';
import { assertAccountAccess } from '../../domain/viewer.js';
import { builder } from '../builder.js';
import { AccountRef } from './account.js';

/**
 * The account now, then again whenever its balance or reservation changes.
 * A burst of changes may arrive as one update; an update that changes
 * nothing visible is not sent.
 */
function balanceUpdates(first: Account, changes: AsyncIterable<unknown>, reload: () => Promise<Account | undefined>) {
  return new Repeater<Account>(async (push, stop) => {
    const iterator = changes[Symbol.asyncIterator]();
    void stop.then(() => iterator.return?.());
    let last = first;
    await push(first);
    for await (const _ of { [Symbol.asyncIterator]: () => iterator }) {
      const next = await reload();
      if (!next) break;
      if (next.balance !== last.balance || next.reserved !== last.reserved) await push(next);
      last = next;
    }
    stop();
  });
}

builder.subscriptionField('balance', (t) =>
  t.field({
    type: AccountRef,
    description: "The viewer's account (admin: the accountId given) now, then each time credits are granted, reserved or settled.",
    authScopes: { signedIn: true },
    args: { accountId: t.arg.id({ description: 'Admin only (and then required).' }) },
    subscribe: async (_root, { accountId }, { viewer, services }) => {
      const id = accountId ? String(accountId) : viewer.kind === 'apiKey' ? viewer.accountId : undefined;
      if (!id) throw new BadInputError('the admin must give the accountId to follow', 'accountId');
      assertAccountAccess(viewer, id);
      // Subscribe before reading, so that no change between the two is missed.
      const changes = services.balanceChanges.subscribe(id);
      const account = await findAccount(services.db, id);
      if (!account) throw new NotFoundError(`no account ${id}`);
      return balanceUpdates(account, changes, () => findAccount(services.db, id));
    },
    resolve: (account) => account,
  }),
);
