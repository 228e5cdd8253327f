/**
 * For the encoding tests: random tuples from a seeded Rng, the value a tuple
 * decodes back to, and a reference tuple comparator written from the spec's
 * ordering rules (not from the encoder), against which the byte order of
 * encoded tuples is checked.
 */
import { expect } from 'vitest';
import type { TupleItem } from '../../src/api/encoding/index.js';
import { BirchError, type BirchErrorCode } from '../../src/errors.js';
import { Rng } from '../helpers/rng.js';

export function expectCode(f: () => unknown, code: BirchErrorCode, message?: RegExp): BirchError {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a BirchError').toBeInstanceOf(BirchError);
  const err = thrown as BirchError;
  expect(err.code, err.message).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** True for the items the tuple layer writes as integers (see src/api/encoding/tuple.ts). */
export function isInteger(x: unknown): x is number | bigint {
  return typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x) && !Object.is(x, -0));
}

/** What decodeTuple(encodeTuple(t)) must give for `t`. */
export function normalize(x: TupleItem): TupleItem {
  if (isInteger(x)) {
    const b = BigInt(x);
    return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
  }
  if (x instanceof Uint8Array) return Buffer.from(x);
  if (Array.isArray(x)) return (x as readonly TupleItem[]).map(normalize);
  return x;
}

// --- The reference order, from design/tuple.md ------------------------------

/** The type's place in the order: its type code (all integers share one). */
function typeRank(x: TupleItem): number {
  if (x === null) return 0x00;
  if (x instanceof Uint8Array) return 0x01;
  if (typeof x === 'string') return 0x02;
  if (Array.isArray(x)) return 0x05;
  if (isInteger(x)) return 0x14;
  if (typeof x === 'number') return 0x21;
  if (x === false) return 0x26;
  if (x === true) return 0x27;
  throw new Error(`not a tuple item: ${String(x)}`);
}

function sign(n: number | bigint): number {
  return n > 0 ? 1 : n < 0 ? -1 : 0;
}

/** Unicode code point order (what UTF-8 byte order is). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** IEEE 754 total order as JavaScript can see it: -Infinity < ... < -0 < +0 < ... < Infinity < NaN. */
function compareDoubles(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return (Number.isNaN(a) ? 1 : 0) - (Number.isNaN(b) ? 1 : 0);
  if (a !== b) return a < b ? -1 : 1;
  if (a === 0) return (Object.is(a, -0) ? 0 : 1) - (Object.is(b, -0) ? 0 : 1);
  return 0;
}

export function compareItems(a: TupleItem, b: TupleItem): number {
  const ta = typeRank(a);
  const tb = typeRank(b);
  if (ta !== tb) return sign(ta - tb);
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array);
  if (typeof a === 'string') return sign(compareCodePoints(a, b as string));
  if (Array.isArray(a)) return compareTuples(a as readonly TupleItem[], b as readonly TupleItem[]);
  if (isInteger(a)) return sign(BigInt(a) - BigInt(b as number | bigint));
  if (typeof a === 'number') return compareDoubles(a, b as number);
  return 0; // booleans of one value
}

export function compareTuples(a: readonly TupleItem[], b: readonly TupleItem[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareItems(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

// --- Random tuples --------------------------------------------------------------

const CODE_POINT_RANGES: [number, number][] = [
  [0x00, 0x00],
  [0x01, 0x7f],
  [0x80, 0x7ff],
  [0x800, 0xd7ff],
  [0xe000, 0xffff],
  [0x10000, 0x10ffff],
];

export function randomString(r: Rng, max = 6): string {
  let s = '';
  for (let n = r.range(0, max); n > 0; n--) {
    const [lo, hi] = r.pick(CODE_POINT_RANGES);
    s += String.fromCodePoint(r.range(lo, hi));
  }
  return s;
}

export function randomBytes(r: Rng, max = 6): Buffer {
  const b = r.bytes(r.range(0, max));
  for (let i = 0; i < b.length; i++) if (r.bool(0.3)) b[i] = r.pick([0x00, 0xff, 0x01, 0xfe]);
  return b;
}

function bigFromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

export function randomInteger(r: Rng): number | bigint {
  const neg = r.bool();
  const s = <T extends number | bigint>(x: T): T => (neg ? -x : x) as T;
  switch (r.int(7)) {
    case 0:
      return s(r.range(0, 300));
    case 1: {
      // Around the byte-length boundaries: 2^(8k) - 2 ... 2^(8k) + 1.
      const k = BigInt(r.range(1, 10));
      return s((1n << (8n * k)) + BigInt(r.range(-2, 1)));
    }
    case 2:
      return s(Math.floor(r.next() * Number.MAX_SAFE_INTEGER));
    case 3:
      return s(bigFromBytes(r.bytes(r.range(1, 40))));
    case 4:
      return s(r.pick([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 63, 2 ** 64, 2 ** 64 - 2048]));
    case 5:
      // An integer-valued number beyond the safe range.
      return s(2 ** r.range(53, 1000) * (1 + r.int(1024) / 1024));
    default:
      return s(BigInt(r.range(0, 1 << 20)));
  }
}

export function randomDouble(r: Rng): number {
  if (r.bool(0.2)) return r.pick([-0, NaN, Infinity, -Infinity, 0.5, -0.5, 5e-324, -5e-324, 3.14, -3.14, 1e-300]);
  if (r.bool(0.5)) return (r.next() - 0.5) * 10 ** r.range(-5, 5);
  const x = r.bytes(8).readDoubleBE(0); // any bit pattern: subnormals, huge, NaN payloads
  return x;
}

/** A random item; nested tuples down to `depth` more levels. */
export function randomItem(r: Rng, depth: number): TupleItem {
  switch (r.int(depth > 0 ? 9 : 8)) {
    case 0:
      return null;
    case 1:
      return r.bool();
    case 2:
      return randomBytes(r);
    case 3:
    case 4:
      return randomString(r);
    case 5:
    case 6:
      return randomInteger(r);
    case 7:
      return randomDouble(r);
    default:
      return randomTuple(r, depth - 1, 4);
  }
}

export function randomTuple(r: Rng, depth = 2, max = 5): TupleItem[] {
  const t: TupleItem[] = [];
  for (let n = r.range(0, max); n > 0; n--) t.push(randomItem(r, depth));
  return t;
}

/**
 * Tuples that share prefixes and items, so that sorting them compares
 * equal items, prefixes and near neighbours, not only type codes.
 */
export function relatedTuples(r: Rng, count: number): TupleItem[][] {
  const pool: TupleItem[] = [];
  for (let i = 0; i < 24; i++) pool.push(randomItem(r, 1));
  pool.push(0, 1, -1, 255, 256, -255, -256, '', 'a', '\0', 'a\0', Buffer.of(0), Buffer.of(), null, [], [null], -0, 0.5, NaN);
  const out: TupleItem[][] = [];
  for (let i = 0; i < count; i++) {
    const t: TupleItem[] = [];
    for (let n = r.range(0, 4); n > 0; n--) t.push(r.bool(0.8) ? r.pick(pool) : randomItem(r, 1));
    if (r.bool(0.3) && t.length > 0) t[t.length - 1] = [...(r.bool() ? [r.pick(pool)] : []), ...t.slice(0, r.int(t.length))];
    out.push(t);
  }
  return out;
}

export { Rng };
