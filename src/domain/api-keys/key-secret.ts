import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

// A key is "th-" + 32 random base62 characters (~190 bits) + a 6-character
// base62 CRC-32 of them. The checksum lets us refuse a mistyped or truncated
// key without a database lookup, and lets secret scanners recognise real keys.
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PREFIX = 'th-';
const DISPLAY_LENGTH = KEY_PREFIX.length + 8;
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const keyPattern = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  for (let i = 0; i < length; i++) {
    out += alphabet[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}

function checksum(body: string): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32(body));
  return base62(bytes, CHECKSUM_LENGTH);
}

export function generateApiKey(): string {
  const body = base62(randomBytes(24), BODY_LENGTH);
  return `${KEY_PREFIX}${body}${checksum(body)}`;
}

/** True when the text has the shape and checksum of a key we could have issued. */
export function isWellFormedApiKey(token: string): boolean {
  if (!keyPattern.test(token)) return false;
  const body = token.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY_LENGTH);
  return checksum(body) === token.slice(KEY_PREFIX.length + BODY_LENGTH);
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(KEY_PREFIX);
}

/** What is stored and shown of a key to recognise it: its first characters. */
export function displayPrefixOf(key: string): string {
  return key.slice(0, DISPLAY_LENGTH);
}
