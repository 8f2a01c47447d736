import { BadInputError, ForbiddenError, UnauthenticatedError } from '../errors.js';
import { assertUuid } from '../ids.js';
import type { Viewer } from './viewer.js';

// Who may do what. Every domain entry point calls these itself, so each rule
// is written once and holds on every face.

export type SignedIn = Exclude<Viewer, { kind: 'anonymous' }>;

export function assertSignedIn(viewer: Viewer): asserts viewer is SignedIn {
  if (viewer.kind === 'anonymous') throw new UnauthenticatedError('sign in with an API key (th-…) or the admin token');
}

export function assertAdmin(viewer: Viewer): asserts viewer is { kind: 'admin' } {
  assertSignedIn(viewer);
  if (viewer.kind !== 'admin') throw new ForbiddenError('only the admin token may do this');
}

/** The admin may act on any account; a key only on its own. */
export function assertAccountAccess(viewer: Viewer, accountId: string): void {
  assertSignedIn(viewer);
  if (viewer.kind === 'apiKey' && viewer.accountId !== accountId) throw new ForbiddenError('this API key can only act on its own account');
}

/** As assertAccountAccess, for every account of a batch. */
export function assertAccountsAccess(viewer: Viewer, accountIds: readonly string[]): void {
  for (const id of accountIds) assertAccountAccess(viewer, id);
}

/**
 * The account an operation acts on. A key acts on its own account (naming
 * another is FORBIDDEN); the admin has no account of its own and must name
 * one with `accountId`.
 */
export function accountFor(viewer: Viewer, requested: string | null | undefined): string {
  assertSignedIn(viewer);
  if (viewer.kind === 'apiKey') {
    if (requested) assertAccountAccess(viewer, requested);
    return viewer.accountId;
  }
  if (!requested) throw new BadInputError(['accountId'], 'the admin token acts for no account of its own: name the account');
  assertUuid(requested, ['accountId']);
  return requested;
}
