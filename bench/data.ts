/**
 * The benchmark data, exactly as kivaloo's benchmarks define it (see
 * bench/README.md for the definition and test vectors).
 *
 * Pair number i of a store of N pairs lives in group X = floor(i / 65536) with
 * Y = i mod 65536 (so N need not be a multiple of 65536: the last group is
 * short). For each (X, Y):
 *
 *   key   = X as 8-byte big-endian || sha256(0x00 || X (8 bytes BE) || Y (8 bytes BE))
 *   value = (X * 65536 + Y) as 8-byte BE || sha256(0x01 || X (8 bytes BE) || Y (8 bytes BE))
 *
 * Keys and values are 40 bytes each. Pairs are loaded in sorted key order:
 * the X prefix orders the groups, and within a group the pairs are ordered by
 * their key hash. A Dataset holds all pairs in that order, packed into one
 * Buffer for keys and one for values, so that a workload's inner loop only
 * takes views (no hashing or allocation of pair data while measuring).
 */
import { hash } from 'node:crypto';

/** Pairs per group: Y runs over 0..65535. */
export const GROUP_SIZE = 65536;
/** Bytes in a key and in a value. */
export const PAIR_FIELD_SIZE = 40;

/** X or Y as the 8-byte big-endian integer the formulas above use. */
function u64be(buf: Buffer, at: number, n: number): void {
  // n < 2^53 always (X < 2^37 for any store that fits in memory), so the
  // split into two 32-bit halves is exact.
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  buf.writeUInt32BE(n >>> 0, at + 4);
}

/** The 17-byte hash input, reused (hash() copies nothing it keeps). */
const input = Buffer.alloc(17);

/** sha256(tag || X || Y), 32 bytes. */
function tagHash(tag: number, x: number, y: number): Buffer {
  input[0] = tag;
  u64be(input, 1, x);
  u64be(input, 9, y);
  return hash('sha256', input, 'buffer');
}

/** The key of pair (X, Y): 8-byte BE X, then sha256(0x00, X, Y). */
export function pairKey(x: number, y: number): Buffer {
  const key = Buffer.alloc(PAIR_FIELD_SIZE);
  u64be(key, 0, x);
  tagHash(0, x, y).copy(key, 8);
  return key;
}

/** The value of pair (X, Y): 8-byte BE (X * 65536 + Y), then sha256(0x01, X, Y). */
export function pairValue(x: number, y: number): Buffer {
  const value = Buffer.alloc(PAIR_FIELD_SIZE);
  u64be(value, 0, x * GROUP_SIZE + y);
  tagHash(1, x, y).copy(value, 8);
  return value;
}

/**
 * All pairs of a store of `n` pairs, in sorted key order. `key(i)` and
 * `value(i)` return views into shared buffers that are never written after
 * construction, so an engine may keep them.
 */
export class Dataset {
  readonly n: number;
  /** n * 40 bytes: key i at offset 40 * i. */
  private readonly keys: Buffer;
  /** n * 40 bytes: value i at offset 40 * i. */
  private readonly values: Buffer;
  /** The bitwise complement of `values`, written by updates (see updateValue). */
  private readonly altValues: Buffer;

  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad pair count ${n}`);
    this.n = n;
    this.keys = Buffer.allocUnsafe(n * PAIR_FIELD_SIZE);
    this.values = Buffer.allocUnsafe(n * PAIR_FIELD_SIZE);
    for (let x = 0, base = 0; base < n; x++, base += GROUP_SIZE) {
      fillGroup(this.keys, this.values, x, base, Math.min(GROUP_SIZE, n - base));
    }
    this.altValues = Buffer.allocUnsafe(n * PAIR_FIELD_SIZE);
    for (let i = 0; i < this.values.length; i++) this.altValues[i] = ~this.values[i]! & 0xff;
  }

  /** The i-th key in sorted order. */
  key(i: number): Buffer {
    return this.keys.subarray(i * PAIR_FIELD_SIZE, (i + 1) * PAIR_FIELD_SIZE);
  }

  /** The value that belongs to the i-th key. */
  value(i: number): Buffer {
    return this.values.subarray(i * PAIR_FIELD_SIZE, (i + 1) * PAIR_FIELD_SIZE);
  }

  /**
   * The value an update writes to key i in update round r (1, 2, ...): the
   * bitwise complement of value(i) in odd rounds, value(i) again in even ones,
   * so that every update really changes the stored bytes.
   */
  updateValue(i: number, round: number): Buffer {
    const from = round % 2 === 1 ? this.altValues : this.values;
    return from.subarray(i * PAIR_FIELD_SIZE, (i + 1) * PAIR_FIELD_SIZE);
  }

  /** Whether `key` is exactly the i-th key. Allocates nothing, so a
   * workload can check every pair it reads without the check costing more
   * than it must. */
  keyIs(i: number, key: Uint8Array): boolean {
    return sameField(this.keys, i * PAIR_FIELD_SIZE, key);
  }

  /** Whether `value` is exactly value(i) or, given a round, updateValue(i, round). */
  valueIs(i: number, value: Uint8Array, round = 0): boolean {
    return sameField(round % 2 === 1 ? this.altValues : this.values, i * PAIR_FIELD_SIZE, value);
  }

  /** Bytes of pair data held (keys, values and update values). */
  get bytes(): number {
    return this.keys.length + this.values.length + this.altValues.length;
  }
}

/** Whether `b` is the 40 bytes of `a` at `at`. A plain loop: measured
 * faster here than Buffer#compare with offsets or subarray() and equals(). */
function sameField(a: Buffer, at: number, b: Uint8Array): boolean {
  if (b.length !== PAIR_FIELD_SIZE) return false;
  for (let j = 0; j < PAIR_FIELD_SIZE; j++) if (a[at + j] !== b[j]) return false;
  return true;
}

/**
 * Writes group X's `count` pairs (Y = 0..count-1), sorted by key, at
 * positions base.. of `keys` and `values`.
 */
function fillGroup(keys: Buffer, values: Buffer, x: number, base: number, count: number): void {
  const hashes = Buffer.allocUnsafe(count * 32);
  const prefix = new Uint32Array(count);
  for (let y = 0; y < count; y++) {
    tagHash(0, x, y).copy(hashes, y * 32);
    prefix[y] = hashes.readUInt32BE(y * 32);
  }
  // Sort the Y numbers by key hash: the first 4 bytes decide almost always,
  // the full 32-byte comparison breaks ties.
  const order = Array.from({ length: count }, (_, y) => y);
  order.sort((a, b) => {
    const pa = prefix[a]!;
    const pb = prefix[b]!;
    if (pa !== pb) return pa < pb ? -1 : 1;
    return Buffer.compare(hashes.subarray(a * 32, a * 32 + 32), hashes.subarray(b * 32, b * 32 + 32));
  });
  for (let j = 0; j < count; j++) {
    const y = order[j]!;
    const at = (base + j) * PAIR_FIELD_SIZE;
    u64be(keys, at, x);
    hashes.copy(keys, at + 8, y * 32, y * 32 + 32);
    u64be(values, at, x * GROUP_SIZE + y);
    tagHash(1, x, y).copy(values, at + 8);
  }
}

/** Pairs in the tokyo workload unless --pairs says otherwise. */
export const TOKYO_PAIRS = 1_000_000;

/** Tokyo Cabinet's benchmark data: key = value = i as 8 decimal digits. */
export function tokyoKey(i: number): Buffer {
  return Buffer.from(String(i).padStart(8, '0'), 'latin1');
}

/**
 * A small, fast, seeded generator (mulberry32) so runs are repeatable and
 * the client spends almost no time choosing keys. Returns integers in [0, n).
 */
export function randomInts(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
    return Math.floor(u * n);
  };
}
