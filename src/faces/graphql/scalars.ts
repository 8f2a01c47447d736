import { GraphQLError, Kind, valueFromASTUntyped } from 'graphql';
import { DomainError } from '../../domain/errors.js';
import { formatMoney, parseMoney } from '../../domain/money.js';
import { builder } from './builder.js';
import { graphQLSpelling } from './errors.js';

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function moneyFrom(text: string): bigint {
  try {
    return parseMoney(text, ['Money']);
  } catch (error) {
    if (error instanceof DomainError) throw badInput(error.describe(graphQLSpelling));
    throw error;
  }
}

builder.scalarType('Money', {
  description:
    'Credits as an exact decimal string (1 credit = 1 USD), e.g. "12.50". Stored as integer nanocredits: at most 9 decimals.',
  serialize: (units) => formatMoney(units),
  parseValue: (value) => {
    if (typeof value === 'string') return moneyFrom(value);
    // JSON numbers are accepted when their shortest form is an exact decimal.
    if (typeof value === 'number' && Number.isFinite(value) && !/e/i.test(String(value))) return moneyFrom(String(value));
    throw badInput('Money must be a decimal string such as "12.50"');
  },
  parseLiteral: (ast) => {
    // The source text of a literal is exact, even for 0.1.
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return moneyFrom(ast.value);
    throw badInput('Money must be a decimal string such as "12.50"');
  },
});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 instant in UTC, e.g. "2026-11-26T13:32:05.000Z".',
  serialize: (date) => date.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw badInput('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});
