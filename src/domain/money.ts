import { BadInputError, type FieldPath } from './errors.js';

// Money is a bigint count of nanocredits: 1 credit = 1 USD = 10^9 units.
// Why 10^9: prices are quoted per million tokens, so a price with up to three
// decimals (0.80, 0.125, 3.00 …) costs a whole number of units per token, and
// every charge is an exact integer product with no rounding anywhere. A bigint
// column holds up to 9.2 × 10^9 credits, far beyond any prepaid balance.

export const MONEY_DECIMALS = 9;
export const UNITS_PER_CREDIT = 10n ** BigInt(MONEY_DECIMALS);
const TOKENS_PER_PRICE_UNIT = 1_000_000n;

/** The largest amount any single input may carry (one billion credits). */
const MAX_AMOUNT = 1_000_000_000n * UNITS_PER_CREDIT;

const decimalPattern = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Parses an exact decimal ("12.5", "0.000000001", "7") into units. Rejects
 * floats' exponent forms, more than nine decimals and absurd magnitudes, so
 * nothing is ever rounded silently.
 */
export function parseMoney(text: string, path: FieldPath = ['amount']): bigint {
  const match = decimalPattern.exec(text.trim());
  if (!match) {
    throw new BadInputError(path, `must be a decimal number of credits such as "12.50", got ${JSON.stringify(text)}`);
  }
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > MONEY_DECIMALS) {
    throw new BadInputError(path, `has more than ${MONEY_DECIMALS} decimals; the smallest amount is 0.000000001 credits`);
  }
  const units = BigInt(whole) * UNITS_PER_CREDIT + BigInt(fraction.padEnd(MONEY_DECIMALS, '0'));
  if (units > MAX_AMOUNT) throw new BadInputError(path, 'is larger than 1000000000 credits');
  return sign ? -units : units;
}

/** Renders units as an exact decimal with at least two decimals: "12.50", "0.000000025". */
export function formatMoney(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / UNITS_PER_CREDIT;
  const fraction = (abs % UNITS_PER_CREDIT).toString().padStart(MONEY_DECIMALS, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** A price per million tokens must be whole units per token, so charges stay exact. */
export function assertPricePerMillion(units: bigint, path: FieldPath): bigint {
  if (units < 0n) throw new BadInputError(path, 'must not be negative');
  if (units % TOKENS_PER_PRICE_UNIT !== 0n) {
    throw new BadInputError(path, `may have at most three decimals (credits per million tokens), got ${formatMoney(units)}`);
  }
  return units;
}

/** The exact cost of `tokens` at a price per million tokens. */
export function costOf(tokens: number, pricePerMillion: bigint): bigint {
  return (BigInt(tokens) * pricePerMillion) / TOKENS_PER_PRICE_UNIT;
}
