import type { RateWindow } from './access/rate-limiter.js';

// Expected failures of the domain. Each carries the public error code of the
// contract; the faces map them, everything else is masked.
//
// A message is made of terms, not finished text: a field is a path
// (`["messages", 3, "toolCallId"]`) and a place to look things up is named by
// what it lists, so that each face spells them its own way (`maxTokens` over
// GraphQL, `max_tokens` over REST; "the models query", "GET /v1/models").
// `message` is the domain's own spelling, used in logs and as a fallback.

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_CREDITS'
  | 'SPEND_LIMIT_EXCEEDED'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

/** Where a value sits in a request: property names and array indexes. */
export type FieldPath = readonly (string | number)[];

/** A reference to a field of the request, spelled by each face. */
export interface FieldTerm {
  field: FieldPath;
}

/** A reference to where the caller can list something, named by each face. */
export interface ListingTerm {
  listing: 'models';
}

export type Term = string | FieldTerm | ListingTerm;

/** The words of a message; see `say`. */
export type Words = readonly Term[];

/** How a face spells the references in a message. */
export interface Spelling {
  field(path: FieldPath): string;
  listing(of: ListingTerm['listing']): string;
}

export const field = (...path: FieldPath): FieldTerm => ({ field: path });
export const modelsListing: ListingTerm = { listing: 'models' };

/**
 * Words from a template: `` say`give ${field('temperature')} or ${field('topP')}` ``.
 * Interpolated strings and numbers are plain text.
 */
export function say(strings: TemplateStringsArray, ...values: (Term | number | bigint)[]): Words {
  const words: Term[] = [];
  strings.forEach((text, i) => {
    if (text) words.push(text);
    if (i < values.length) {
      const value = values[i];
      words.push(typeof value === 'number' || typeof value === 'bigint' ? String(value) : (value as Term));
    }
  });
  return words;
}

/** A path as the domain (and GraphQL) writes it: `messages[3].toolCallId`. */
export function dottedPath(path: FieldPath, name: (key: string) => string = (key) => key): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${name(key)}`)).join('');
}

export const domainSpelling: Spelling = {
  field: (path) => dottedPath(path),
  listing: () => 'the model list',
};

export function spell(words: Words, spelling: Spelling): string {
  return words
    .map((term) => (typeof term === 'string' ? term : 'field' in term ? spelling.field(term.field) : spelling.listing(term.listing)))
    .join('');
}

const wordsOf = (text: string | Words): Words => (typeof text === 'string' ? [text] : text);

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  readonly words: Words;

  constructor(text: string | Words) {
    const words = wordsOf(text);
    super(spell(words, domainSpelling));
    this.words = words;
  }

  /** The message in a face's spelling. */
  describe(spelling: Spelling): string {
    return spell(this.words, spelling);
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
}

/**
 * An input value at fault; the message is "<field>: <problem>". (Not named
 * `path`: graphql-js takes any error with an array `path` for one it already
 * located, and would pass it on as a system error.)
 */
export class BadInputError extends DomainError {
  readonly code = 'BAD_USER_INPUT';

  constructor(
    readonly fieldPath: FieldPath,
    readonly problem: string | Words,
  ) {
    super([field(...fieldPath), ': ', ...wordsOf(problem)]);
  }
}

/** An idempotency key already used for a different request (REST faces answer 409). */
export class IdempotencyKeyReusedError extends BadInputError {
  constructor(readonly earlierId: string) {
    super(['idempotencyKey'], `was already used for a different request (completion ${earlierId}); use a new key for a new request`);
  }
}

/** The model named is unknown or disabled (OpenAI-style faces answer 404 for it). */
export class ModelUnavailableError extends BadInputError {}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
}

export class InsufficientCreditsError extends DomainError {
  readonly code = 'INSUFFICIENT_CREDITS';
}

export class SpendLimitExceededError extends DomainError {
  readonly code = 'SPEND_LIMIT_EXCEEDED';
}

export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor(
    text: string | Words,
    readonly retryAfterSeconds: number,
    /** Set when the key's requestsPerMinute refused it: where its window stands. */
    readonly window?: RateWindow,
  ) {
    super(text);
  }
}

/** The server is shutting down and takes no new work; the request may be retried. */
export class UnavailableError extends DomainError {
  readonly code = 'UNAVAILABLE';
}

/** The upstream model keeps failing (its circuit breaker is open): nothing was reserved; retry after `retryAfterSeconds`. */
export class UpstreamUnavailableError extends UnavailableError {
  constructor(
    text: string | Words,
    readonly retryAfterSeconds: number,
  ) {
    super(text);
  }
}

/** When a refused request may be tried again, in whole seconds, for the errors that know. */
export function retryAfterOf(error: DomainError): number | undefined {
  return error instanceof RateLimitedError || error instanceof UpstreamUnavailableError ? error.retryAfterSeconds : undefined;
}
