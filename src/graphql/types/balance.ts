import { Repeater } from 'graphql-yoga';
import { findAccount, type Account } from '../../domain/accounts.js';
import { BadInputError, NotFoundError } from '../../domain/errors.js';
import { assertAccountAccess } from '../../domain/viewer.js';
import { builder } from '../builder.js';
import { AccountRef } from './account.js';

/**
 * The account now, then again whenever its balance or reservation changes.
 * A burst of changes may arrive as one update; an update that changes
 * nothing visible is not sent. `firstChange` is the pending `changes.next()`
 * that made the subscription listen before `first` was read.
 */
function balanceUpdates(
  first: Account,
  changes: AsyncIterator<unknown>,
  firstChange: Promise<IteratorResult<unknown>>,
  reload: () => Promise<Account | undefined>,
) {
  return new Repeater<Account>(async (push, stop) => {
    void stop.then(() => changes.return?.());
    let last = first;
    await push(first);
    for (let change = await firstChange; !change.done; change = await changes.next()) {
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
      // Listen before reading, so that a change committed after the read is
      // still pushed. yoga's pubsub attaches its listener only when the first
      // value is asked for, hence the next() now, kept pending. Through Redis
      // the SUBSCRIBE is a round trip of its own that the read does not wait
      // for: a change published within that round trip can still be missed.
      const changes = services.balanceChanges.subscribe(id)[Symbol.asyncIterator]();
      const firstChange = changes.next();
      let account: Account | undefined;
      try {
        account = await findAccount(services.db, id);
        if (!account) throw new NotFoundError(`no account ${id}`);
      } catch (error) {
        void changes.return?.();
        throw error;
      }
      return balanceUpdates(account, changes, firstChange, () => findAccount(services.db, id));
    },
    resolve: (account) => account,
  }),
);
