/**
 * Reading command arguments: integers as Redis reads them, option words,
 * and birch's 255-byte limits.
 *
 * @internal
 */
import { KEY_LIMIT, VALUE_LIMIT } from '../backend.js';
import { keyTooLarge, valueTooLarge } from './errors.js';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * Redis's string2ll: an optional '-', digits without a leading zero (or
 * "0"), within a signed 64-bit integer. undefined if malformed.
 */
export function int64(b: Uint8Array): bigint | undefined {
  const n = b.length;
  if (n === 0 || n > 20) return undefined;
  let i = 0;
  if (b[0] === 0x2d) {
    if (n === 1) return undefined;
    i = 1;
  }
  if (b[i] === 0x30) return n === 1 ? 0n : undefined;
  for (let j = i; j < n; j++) if (b[j]! < 0x30 || b[j]! > 0x39) return undefined;
  const v = BigInt(Buffer.from(b.buffer, b.byteOffset, n).toString('latin1'));
  return v < I64_MIN || v > I64_MAX ? undefined : v;
}

/** An integer argument that fits a JavaScript number exactly; undefined otherwise. */
export function safeInt(b: Uint8Array): number | undefined {
  // Fast path for short decimal strings.
  const n = b.length;
  if (n > 0 && n <= 15) {
    let i = 0;
    let neg = false;
    if (b[0] === 0x2d) {
      if (n === 1) return undefined;
      neg = true;
      i = 1;
    }
    if (b[i] === 0x30) return n === 1 ? 0 : undefined;
    let v = 0;
    for (; i < n; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) return undefined;
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }
  const big = int64(b);
  if (big === undefined || big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(big);
}

/** Whether argument `b` is the word `w` (given in lower case), ignoring ASCII case. */
export function isWord(b: Uint8Array, w: string): boolean {
  if (b.length !== w.length) return false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== w.charCodeAt(i)) return false;
  }
  return true;
}

/** The argument in lower case, as text (for option words and names). */
export function lower(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1').toLowerCase();
}

/** The error for a key over the limit, or undefined. */
export function keyError(k: Uint8Array): string | undefined {
  return k.length > KEY_LIMIT ? keyTooLarge(k.length) : undefined;
}

export function valueError(v: Uint8Array): string | undefined {
  return v.length > VALUE_LIMIT ? valueTooLarge(v.length) : undefined;
}

/** The first error among keys args[from], args[from+step]... (to: exclusive). */
export function keysError(args: Buffer[], from: number, to = args.length, step = 1): string | undefined {
  for (let i = from; i < to; i += step) {
    if (args[i]!.length > KEY_LIMIT) return keyTooLarge(args[i]!.length);
  }
  return undefined;
}
