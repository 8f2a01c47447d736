import type { Plugin } from 'graphql-yoga';

export interface Counter {
  inc(): void;
  dec(): void;
}

/**
 * The same iterator, calling `onEnd` once when it ends for any reason: done,
 * failed, or closed by the client (`return`). Not an async generator, whose
 * `return()` would wait for the next event of a quiet subscription.
 */
function endingOnce<T>(source: AsyncIterable<T>, onEnd: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () =>
      iterator.next().then(
        (result) => {
          if (result.done) end();
          return result;
        },
        (error: unknown) => {
          end();
          throw error;
        },
      ),
    return: (value?: unknown) => {
      end();
      return iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      end();
      return iterator.throw?.(error) ?? Promise.reject(error);
    },
  };
}

/**
 * Counts open subscriptions. Subscriptions over SSE and over graphql-ws both
 * run through envelop's subscribe, so one hook sees them all.
 */
export function useActiveSubscriptions(gauge: Counter): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return;
          gauge.inc();
          setResult(endingOnce(result, () => gauge.dec()));
        },
      };
    },
  };
}
