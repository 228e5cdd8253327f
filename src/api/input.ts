/**
 * Checking and converting what application code passes in. Everything is
 * refused here, with a typed error, before any request is queued.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import { MAX_KEY_SIZE, MAX_VALUE_SIZE, copyInto, type Bound, type EntryArena, type Op } from '../btree/index.js';
import type { BatchOp, Bytes, RangeOptions } from './types.js';


function bytes(x: unknown, what: string, copy: boolean): Buffer {
  if (typeof x === 'string') return Buffer.from(x, 'utf8');
  if (x instanceof Uint8Array) {
    if (copy) return Buffer.from(x);
    return Buffer.isBuffer(x) ? x : Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  }
  throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} must be a Uint8Array, Buffer or string, got ${describe(x)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

function sizedKey(b: Buffer): Buffer {
  if (b.length > MAX_KEY_SIZE) throw new BirchError('BIRCH_KEY_TOO_LARGE', `key of ${b.length} bytes exceeds ${MAX_KEY_SIZE}`);
  return b;
}

function sizedValue(b: Buffer, what: string): Buffer {
  if (b.length > MAX_VALUE_SIZE) {
    throw new BirchError('BIRCH_VALUE_TOO_LARGE', `${what} of ${b.length} bytes exceeds ${MAX_VALUE_SIZE}`);
  }
  return b;
}

/** A key to store: copied, so later changes to the caller's buffer do not reach the store. */
export function keyIn(x: unknown): Buffer {
  return sizedKey(bytes(x, 'key', true));
}

/** A key to look up: a view is enough (nothing keeps it). */
export function keyView(x: unknown): Buffer {
  return sizedKey(bytes(x, 'key', false));
}

export function valueIn(x: unknown, what = 'value'): Buffer {
  return sizedValue(bytes(x, what, true), what);
}

/** The byte length of a key or value (a string counts as UTF-8), after checking its type. */
function lengthOf(x: unknown, what: string): number {
  if (typeof x === 'string') return Buffer.byteLength(x, 'utf8');
  if (x instanceof Uint8Array) return x.length;
  throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} must be a Uint8Array, Buffer or string, got ${describe(x)}`);
}

function writeBytes(buf: Buffer, at: number, x: string | Uint8Array, len: number): void {
  if (typeof x === 'string') buf.write(x, at, len, 'utf8');
  else copyInto(buf, at, x);
}

/**
 * A pair to store, as the one serialized entry the leaf will hold (key
 * length, key, value length, value), checked, then copied exactly once into
 * `arena`: returns the buffer it is in; `arena.at` is its offset.
 */
export function entryIn(arena: EntryArena, key: unknown, value: unknown): Buffer {
  const kl = lengthOf(key, 'key');
  if (kl > MAX_KEY_SIZE) throw new BirchError('BIRCH_KEY_TOO_LARGE', `key of ${kl} bytes exceeds ${MAX_KEY_SIZE}`);
  const vl = lengthOf(value, 'value');
  if (vl > MAX_VALUE_SIZE) throw new BirchError('BIRCH_VALUE_TOO_LARGE', `value of ${vl} bytes exceeds ${MAX_VALUE_SIZE}`);
  const buf = arena.reserve(2 + kl + vl);
  const at = arena.at;
  buf[at] = kl;
  writeBytes(buf, at + 1, key as string | Uint8Array, kl);
  buf[at + 1 + kl] = vl;
  writeBytes(buf, at + 2 + kl, value as string | Uint8Array, vl);
  return buf;
}

export function batchIn(arena: EntryArena, ops: unknown): Op[] {
  if (!Array.isArray(ops)) throw new BirchError('BIRCH_BAD_ARGUMENT', `batch needs an array of operations, got ${describe(ops)}`);
  return ops.map((op: unknown, i): Op => {
    if (typeof op !== 'object' || op === null) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i} must be an object, got ${describe(op)}`);
    }
    const o = op as Partial<BatchOp> & { type?: unknown };
    if (o.type === 'put') return { kind: 'put', entry: entryIn(arena, o.key, (o as { value?: unknown }).value), off: arena.at };
    if (o.type === 'del') return { kind: 'del', key: keyIn(o.key) };
    throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i} has type ${String(o.type)}; expected 'put' or 'del'`);
  });
}

export interface RangeIn {
  lo: Bound | undefined;
  hi: Bound | undefined;
  reverse: boolean;
  limit: number;
}

const RANGE_KEYS = new Set(['gt', 'gte', 'lt', 'lte', 'prefix', 'reverse', 'limit']);

/** Range options as one lower and one upper bound (the tightest of those given). */
export function rangeIn(opts: unknown): RangeIn {
  if (opts === undefined) return { lo: undefined, hi: undefined, reverse: false, limit: Infinity };
  if (typeof opts !== 'object' || opts === null) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `range options must be an object, got ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!RANGE_KEYS.has(k)) throw new BirchError('BIRCH_BAD_ARGUMENT', `unknown range option '${k}'`);
  }
  const o = opts as RangeOptions;
  const bound = (x: Bytes | undefined, name: string): Buffer | undefined =>
    x === undefined ? undefined : bytes(x, `range option ${name}`, true);
  let lo: Bound | undefined;
  let hi: Bound | undefined;
  const tightenLo = (key: Buffer | undefined, inclusive: boolean): void => {
    if (key === undefined) return;
    if (lo === undefined) lo = { key, inclusive };
    else {
      const c = key.compare(lo.key);
      if (c > 0 || (c === 0 && !inclusive)) lo = { key, inclusive };
    }
  };
  const tightenHi = (key: Buffer | undefined, inclusive: boolean): void => {
    if (key === undefined) return;
    if (hi === undefined) hi = { key, inclusive };
    else {
      const c = key.compare(hi.key);
      if (c < 0 || (c === 0 && !inclusive)) hi = { key, inclusive };
    }
  };
  tightenLo(bound(o.gt, 'gt'), false);
  tightenLo(bound(o.gte, 'gte'), true);
  tightenHi(bound(o.lt, 'lt'), false);
  tightenHi(bound(o.lte, 'lte'), true);
  const prefix = bound(o.prefix, 'prefix');
  if (prefix !== undefined) {
    tightenLo(prefix, true);
    tightenHi(prefixEnd(prefix), false);
  }
  if (o.reverse !== undefined && typeof o.reverse !== 'boolean') {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `range option reverse must be a boolean, got ${describe(o.reverse)}`);
  }
  let limit = Infinity;
  if (o.limit !== undefined) {
    if (typeof o.limit !== 'number' || !(Number.isInteger(o.limit) || o.limit === Infinity) || o.limit < 0) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `range option limit must be a non-negative integer, got ${String(o.limit)}`);
    }
    limit = o.limit;
  }
  return { lo, hi, reverse: o.reverse === true, limit };
}

/** The least byte string greater than every string with this prefix, or undefined if none. */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = Buffer.from(prefix.subarray(0, n));
  end[n - 1]!++;
  return end;
}
