import { createSourceEventStream, getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

type Plan = Pick<CompiledQuery, 'query'>;

/**
 * Every event of a subscription runs the same selection set, a few hundred
 * times for one completion: re-walking the document each time (what a
 * generic executor does) was a fifth of the gateway's CPU per streamed
 * token. Here the subscription's selection set is compiled once per
 * document (graphql-jit) and each event runs the compiled plan. The start of
 * a subscription (variables, the subscribe resolver and its errors) stays
 * with graphql-js's createSourceEventStream, so what is refused there is
 * refused exactly as before.
 */
export function useCompiledSubscriptionEvents(): Plugin {
  const plans = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, Plan | null>>>();
  const planOf = (args: ExecutionArgs): Plan | null => {
    let bySchema = plans.get(args.schema);
    if (!bySchema) plans.set(args.schema, (bySchema = new WeakMap()));
    let byName = bySchema.get(args.document);
    if (!byName) bySchema.set(args.document, (byName = new Map()));
    const name = args.operationName ?? '';
    let plan = byName.get(name);
    if (plan === undefined) {
      const compiled = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      plan = isCompiledQuery(compiled) ? compiled : null;
      byName.set(name, plan);
    }
    return plan;
  };
  return {
    onSubscribe({ args, setSubscribeFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'subscription') return;
      const plan = planOf(args);
      if (!plan) return;
      setSubscribeFn(async (subscribeArgs) => {
        const source = await createSourceEventStream(subscribeArgs);
        if (!isAsyncIterable(source)) return source as ExecutionResult;
        return eventsOf(source, (payload) => plan.query(payload, subscribeArgs.contextValue, subscribeArgs.variableValues ?? {}) as Promise<ExecutionResult>);
      });
    },
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** The source's events, each executed by `run`; ending the results ends the source. */
function eventsOf(source: AsyncIterable<unknown>, run: (payload: unknown) => ExecutionResult | Promise<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    // A plan whose resolvers are all synchronous answers at once: no await
    // for it, one promise per event fewer.
    next: () =>
      iterator.next().then((item): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
        if (item.done) return { done: true, value: undefined };
        const result = run(item.value);
        return result instanceof Promise ? result.then((value) => ({ done: false, value })) : { done: false, value: result };
      }),
    return: async () => {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      await iterator.return?.();
      throw error;
    },
  };
}
