import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { QueryLimits } from '../../../config.js';

type ArmorConfig = NonNullable<Parameters<typeof EnvelopArmorPlugin>[0]>;
type RejectCallback = NonNullable<NonNullable<ArmorConfig['maxDepth']>['onReject']>[number];

/**
 * Armor's validation rules throw by default, which escapes graphql-js's
 * validate() (and would break graphql-ws's onSubscribe). Reported to the
 * validation context instead, a rejection is an ordinary validation error
 * with a code, on HTTP, SSE and WebSocket alike. Armor prefixes its
 * messages with "Syntax Error:", which they are not.
 */
const reportAsValidationError: RejectCallback = (context, error) => {
  context?.reportError(
    createGraphQLError(error.message.replace(/^Syntax Error: /, ''), {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    }),
  );
};

const asValidationRule = { onReject: [reportAsValidationError], propagateOnRejection: false };

/**
 * Limits what one document may ask for, before anything executes. The token
 * limit runs in the parser, so it bounds the work of parsing itself; it has
 * no validation context and keeps armor's throwing (a parse error).
 * Field suggestions ("Did you mean …") would leak the schema, so they are
 * blocked whenever introspection is.
 */
export function useArmor(limits: QueryLimits, options: { blockFieldSuggestions: boolean }): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.depth, ...asValidationRule },
    maxAliases: { n: limits.aliases, ...asValidationRule },
    costLimit: { maxCost: limits.cost, ...asValidationRule },
    maxDirectives: { n: limits.directives, ...asValidationRule },
    maxTokens: { n: limits.tokens },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestions },
  }) as Plugin;
}
