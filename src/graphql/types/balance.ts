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
 *
 * It listens before it reads, so that a change committed after the read is
 * still pushed. yoga's pubsub attaches its listener only when the first
 * value is asked for, hence the `next()` before the read, kept pending and
 * consumed first. All of it happens inside the repeater: a subscription
 * cancelled before its first value never starts it, and must leave no
 * listener behind. Through Redis the SUBSCRIBE is a round trip of its own
 * that the read does not wait for: a change published within that round
 * trip can still be missed there.
 */
function balanceUpdates(changes: AsyncIterable<unknown>, read: () => Promise<Account | undefined>) {
  return new Repeater<Account>(async (push, stop) => {
    const iterator = changes[Symbol.asyncIterator]();
    void stop.then(() => iterator.return?.());
    const firstChange = iterator.next();
    let last = await read();
    if (!last) {
      stop();
      return;
    }
    await push(last);
    for (let change = await firstChange; !change.done; change = await iterator.next()) {
      const next = await read();
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
      // Checked here so that a wrong id fails the operation, not its stream.
      if (!(await findAccount(services.db, id))) throw new NotFoundError(`no account ${id}`);
      return balanceUpdates(services.balanceChanges.subscribe(id), () => findAccount(services.db, id));
    },
    resolve: (account) => account,
  }),
);
