import { resolveCursorConnection, type DefaultConnectionArguments, type PageInfoShape } from '@pothos/plugin-relay';
import type { PageRequest } from '../../../domain/pagination.js';

/** `first` defaults to 20 and is capped at 100 on every connection. */
const pageSizes = { defaultSize: 20, maxSize: 100 } as const;

export interface CountedConnection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfoShape;
  /** Counted only when a client selects totalCount. */
  totalCount: () => Promise<number>;
}

/** A keyset page of a domain list, as a relay connection with totalCount. */
export async function connectionOf<T>(
  args: DefaultConnectionArguments,
  load: (page: PageRequest) => Promise<T[]>,
  toCursor: (row: NoInfer<T>) => string,
  count: () => Promise<number>,
): Promise<CountedConnection<T>> {
  const connection = await resolveCursorConnection<Promise<T[]>>({ args, toCursor, ...pageSizes }, load);
  return { ...(connection as Omit<CountedConnection<T>, 'totalCount'>), totalCount: count };
}
