/**
 * Checking and converting what application code passes in. Everything is
 * refused here, with a typed error, before any request is queued.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import {
  MAX_KEY_SIZE,
  MAX_VALUE_SIZE,
  copyInto,
  entrySize,
  writeDeadline,
  writeEntryHead,
  writeValueHead,
  type Bound,
  type EntryArena,
  type Op,
} from '../btree/index.js';
import { prefixEnd } from './encoding/keys.js';
import type { Bytes, RangeOptions } from './types.js';


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
 * Where a keyspace's keys live in the tree (btree/entry.ts): the keyspace
 * byte, then `prefix` (a table's id; empty for the store's own keys), then
 * the key. The prefix counts against the 255-byte key limit.
 */
export interface Space {
  keyspace: number;
  prefix: Uint8Array;
}

function keyTooLarge(space: Space, kl: number): BirchError {
  const p = space.prefix.length;
  return new BirchError(
    'BIRCH_KEY_TOO_LARGE',
    p === 0 ? `key of ${kl} bytes exceeds ${MAX_KEY_SIZE}` : `key of ${kl} bytes exceeds ${MAX_KEY_SIZE - p} (${MAX_KEY_SIZE} less the table's ${p}-byte prefix)`,
  );
}

/**
 * A pair to store, as the one serialized entry the leaf will hold
 * (btree/entry.ts), checked, then copied exactly once into `arena`: returns
 * the buffer it is in; `arena.at` is its offset. `deadline` (ms since the
 * epoch) is 0 for a pair that does not expire.
 */
export function entryIn(arena: EntryArena, space: Space, key: unknown, value: unknown, deadline = 0): Buffer {
  const p = space.prefix.length;
  const ul = lengthOf(key, 'key');
  if (p + ul > MAX_KEY_SIZE) throw keyTooLarge(space, ul);
  const vl = lengthOf(value, 'value');
  if (vl > MAX_VALUE_SIZE) throw new BirchError('BIRCH_VALUE_TOO_LARGE', `value of ${vl} bytes exceeds ${MAX_VALUE_SIZE}`);
  const kl = p + ul;
  const buf = arena.reserve(entrySize(kl, vl, deadline));
  const at = arena.at;
  const ks = writeEntryHead(buf, at, space.keyspace, kl);
  if (p > 0) copyInto(buf, ks, space.prefix);
  writeBytes(buf, ks + p, key as string | Uint8Array, ul);
  const vs = writeValueHead(buf, at, kl, vl, deadline);
  writeBytes(buf, vs, value as string | Uint8Array, vl);
  if (deadline > 0) writeDeadline(buf, vs, vl, deadline);
  return buf;
}

/** The sort key of `key` in `space`, as a buffer of its own (kept by a queued operation). */
export function sortKeyIn(space: Space, key: unknown): Buffer {
  const p = space.prefix.length;
  const ul = lengthOf(key, 'key');
  if (p + ul > MAX_KEY_SIZE) throw keyTooLarge(space, ul);
  const b = Buffer.allocUnsafe(1 + p + ul);
  b[0] = space.keyspace;
  if (p > 0) copyInto(b, 1, space.prefix);
  writeBytes(b, 1 + p, key as string | Uint8Array, ul);
  return b;
}

/**
 * The sort key of `key` in `space`, written into `scratch` (at least 257
 * bytes, reused: a lookup keeps nothing); returns where it ends.
 */
export function lookupKey(scratch: Buffer, space: Space, key: unknown): number {
  const p = space.prefix.length;
  const ul = lengthOf(key, 'key');
  if (p + ul > MAX_KEY_SIZE) throw keyTooLarge(space, ul);
  scratch[0] = space.keyspace;
  if (p > 0) copyInto(scratch, 1, space.prefix);
  writeBytes(scratch, 1 + p, key as string | Uint8Array, ul);
  return 1 + p + ul;
}

/**
 * The latest deadline a pair may have (ms since the epoch): the largest
 * safe integer, about 285,000 years from now. A lifetime reaching past it
 * is refused rather than cut.
 */
export const MAX_DEADLINE = Number.MAX_SAFE_INTEGER;

/** A lifetime option (ms) as a deadline (ms since the epoch, from `now`), or 0 for none. */
export function deadlineIn(ttl: unknown, now: number, what = 'ttl'): number {
  if (ttl === undefined) return 0;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} must be a positive, finite number of milliseconds, got ${String(ttl)}`);
  }
  const deadline = now + Math.ceil(ttl);
  if (!(deadline <= MAX_DEADLINE)) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} of ${String(ttl)} ms reaches past the latest deadline a pair may have (${MAX_DEADLINE} ms since the epoch)`);
  }
  return deadline;
}

/** `f()`, with a BirchError it throws told as batch operation `i`'s. */
export function inBatchOp<T>(i: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BirchError) throw new BirchError(e.code, `batch operation ${i}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** A write's options ({ ttl } or { keepTtl }), checked. */
export function writeOptionsIn(opts: unknown): { ttl?: number; keepTtl?: boolean } {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) throw new BirchError('BIRCH_BAD_ARGUMENT', `write options must be an object, got ${describe(opts)}`);
  for (const k of Object.keys(opts)) {
    if (k !== 'ttl' && k !== 'keepTtl') throw new BirchError('BIRCH_BAD_ARGUMENT', `unknown write option '${k}'`);
  }
  const o = opts as { ttl?: number; keepTtl?: unknown };
  if (o.keepTtl !== undefined && typeof o.keepTtl !== 'boolean') {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `write option keepTtl must be a boolean, got ${describe(o.keepTtl)}`);
  }
  if (o.keepTtl === true && o.ttl !== undefined) throw new BirchError('BIRCH_BAD_ARGUMENT', 'write options ttl and keepTtl exclude each other');
  return o as { ttl?: number; keepTtl?: boolean };
}

export interface RangeIn {
  lo: Bound | undefined;
  hi: Bound | undefined;
  reverse: boolean;
  limit: number;
}

const RANGE_KEYS = new Set(['gt', 'gte', 'lt', 'lte', 'prefix', 'reverse', 'limit']);

/**
 * Range options as one lower and one upper bound on sort keys in `space`
 * (the tightest of those given, and never outside the space).
 */
export function rangeIn(opts: unknown, space: Space): RangeIn {
  const base = Buffer.allocUnsafe(1 + space.prefix.length);
  base[0] = space.keyspace;
  base.set(space.prefix, 1);
  const inSpace = (x: Buffer): Buffer => Buffer.concat([base, x]);
  const whole = (): RangeIn => ({ lo: { key: base, inclusive: true }, hi: { key: prefixEnd(base)!, inclusive: false }, reverse: false, limit: Infinity });
  if (opts === undefined) return whole();
  if (typeof opts !== 'object' || opts === null) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `range options must be an object, got ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!RANGE_KEYS.has(k)) throw new BirchError('BIRCH_BAD_ARGUMENT', `unknown range option '${k}'`);
  }
  const o = opts as RangeOptions;
  const bound = (x: Bytes | undefined, name: string): Buffer | undefined =>
    x === undefined ? undefined : inSpace(bytes(x, `range option ${name}`, true));
  let { lo, hi } = whole() as { lo: Bound | undefined; hi: Bound | undefined };
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
  // (prefixEnd of a prefix inside the space is never undefined: the keyspace byte is below 0xff.)
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
