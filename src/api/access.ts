/**
 * The read and write API of one keyspace in the application's types: the
 * store's own keys (Store) or a table's (Table), and the read half of both
 * at a snapshot's commit. Keys and values pass through their encodings
 * (encoding/) here and nowhere else; below this file everything is bytes
 * (keyspace.ts). The 'binary' encodings skip the codec entirely, so a store
 * without encodings takes the same path as before they existed.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import { keyCopyAt, valueCopyAt, type Commit } from '../btree/index.js';
import { keyCodec, rangeBounds, valueCodec, type KeyCodec, type KeyEncoding, type KeyRangeOptions, type ValueEncoding } from './encoding/index.js';
import type { Codec } from './encoding/codec.js';
import type { Keyspace } from './keyspace.js';
import { inBatchOp } from './input.js';
import { keyOnly, pair, type SnapshotState } from './readers.js';
import type { Bytes, WriteOptions } from './types.js';

/** The encodings of a store or table, as given in its options. */
export interface Encodings {
  keyEncoding?: KeyEncoding;
  valueEncoding?: ValueEncoding;
}

/** The codecs named by `opts` (checked: BIRCH_BAD_ARGUMENT for an unknown name). */
export function codecsOf(opts: Encodings | undefined, allowed: readonly string[] = ['keyEncoding', 'valueEncoding']): { kc: KeyCodec<unknown, unknown>; vc: Codec<unknown, unknown> } {
  if (opts !== undefined) {
    if (typeof opts !== 'object' || opts === null) throw new BirchError('BIRCH_BAD_ARGUMENT', `table options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    for (const k of Object.keys(opts)) if (!allowed.includes(k)) throw new BirchError('BIRCH_BAD_ARGUMENT', `unknown table option '${k}'`);
  }
  return {
    kc: keyCodec(opts?.keyEncoding ?? 'binary') as KeyCodec<unknown, unknown>,
    vc: valueCodec(opts?.valueEncoding ?? 'binary') as Codec<unknown, unknown>,
  };
}

const RANGE_OPTIONS = new Set(['gt', 'gte', 'lt', 'lte', 'prefix', 'reverse', 'limit']);

/** Where a reader reads: the latest commit, or a snapshot's. */
export interface ReadAt {
  commit: Commit;
  state: SnapshotState;
}

/** The reads: get, ttl, range, keys. */
export class Reader<KIn, KOut, VOut> {
  /** @internal */ protected readonly ks: Keyspace;
  /** @internal */ protected readonly kc: KeyCodec<unknown, unknown>;
  /** @internal */ protected readonly vc: Codec<unknown, unknown>;
  /** @internal */ protected readonly binaryKeys: boolean;
  /** @internal */ protected readonly binaryValues: boolean;
  /** @internal */ protected readonly at: ReadAt | undefined;

  /** @internal */
  constructor(ks: Keyspace, codecs: { kc: KeyCodec<unknown, unknown>; vc: Codec<unknown, unknown> }, at?: ReadAt) {
    this.ks = ks;
    this.kc = codecs.kc;
    this.vc = codecs.vc;
    this.binaryKeys = codecs.kc.encoding === 'binary';
    this.binaryValues = codecs.vc.encoding === 'binary';
    this.at = at;
  }

  /** The latest committed value of `key` (or the snapshot's), or undefined (also once it expired). */
  get(key: KIn): VOut | undefined {
    const at = this.at;
    if (at !== undefined) at.state.alive();
    const v = this.ks.get(this.keyIn(key), at?.commit);
    if (v === undefined || this.binaryValues) return v as VOut | undefined;
    return this.vc.decode(v) as VOut;
  }

  /** Milliseconds `key` has left; Infinity if it does not expire; undefined if absent or expired. */
  ttl(key: KIn): number | undefined {
    const at = this.at;
    if (at !== undefined) at.state.alive();
    return this.ks.ttl(this.keyIn(key), at?.commit);
  }

  /** Pairs in key order (or reverse), read lazily from the current commit (or the snapshot's). */
  range(opts?: KeyRangeOptions<KIn>): IterableIterator<[KOut, VOut]> {
    if (this.binaryKeys && this.binaryValues) return this.iterate(opts, pair) as IterableIterator<[KOut, VOut]>;
    const kc = this.kc;
    const vc = this.vc;
    return this.iterate(opts, (b, off, skip) => [kc.decode(keyCopyAt(b, off, skip)), vc.decode(valueCopyAt(b, off))] as [KOut, VOut]);
  }

  /** Keys in key order (or reverse), read lazily from the current commit (or the snapshot's). */
  keys(opts?: KeyRangeOptions<KIn>): IterableIterator<KOut> {
    if (this.binaryKeys) return this.iterate(opts, keyOnly) as IterableIterator<KOut>;
    const kc = this.kc;
    return this.iterate(opts, (b, off, skip) => kc.decode(keyCopyAt(b, off, skip)) as KOut);
  }

  /** @internal Whether this reads and writes through `owner` (the store that made it). */
  belongsTo(owner: unknown): boolean {
    return this.ks.owner === owner;
  }

  /** @internal */
  protected keyIn(key: KIn): Bytes {
    return this.binaryKeys ? (key as Bytes) : this.kc.encode(key);
  }

  private iterate<T>(opts: KeyRangeOptions<KIn> | undefined, make: (b: Buffer, off: number, skip: number) => T): IterableIterator<T> {
    const at = this.at;
    if (at !== undefined) at.state.alive();
    return this.ks.iterate(this.byteRange(opts), make, at?.commit, at?.state);
  }

  /** Range options in the key encoding as byte options. */
  private byteRange(opts: KeyRangeOptions<KIn> | undefined): object | undefined {
    if (this.binaryKeys || opts === undefined) return opts;
    if (typeof opts !== 'object' || opts === null) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `range options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    }
    for (const k of Object.keys(opts)) {
      if (!RANGE_OPTIONS.has(k)) throw new BirchError('BIRCH_BAD_ARGUMENT', `unknown range option '${k}'`);
    }
    const bounds = rangeBounds(this.kc, opts as KeyRangeOptions<unknown>);
    return {
      ...bounds,
      ...(opts.reverse !== undefined && { reverse: opts.reverse }),
      ...(opts.limit !== undefined && { limit: opts.limit }),
    };
  }
}

/** One operation of an atomic batch, in a store's or table's key and value types. */
export type AccessBatchOp<KIn, VIn> = { type: 'put'; key: KIn; value: VIn; ttl?: number } | { type: 'del'; key: KIn };

/** An operation of a batch, as bytes in its keyspace: what Keyspace.batch() takes. */
export interface EncodedOp {
  ks: Keyspace;
  type: 'put' | 'del';
  key: Bytes;
  value?: Bytes;
  ttl?: unknown;
}

function notForEncoding(op: string, encoding: string): BirchError {
  return new BirchError('BIRCH_BAD_ARGUMENT', `${op} works on the stored bytes, which the value encoding '${encoding}' would not read back as the result; use 'binary', 'utf8'${op === 'incr' ? " or 'json'" : ''}`);
}

/** Reads and writes. */
export class Access<KIn, KOut, VIn, VOut> extends Reader<KIn, KOut, VOut> {
  /**
   * Set `key` to `value`; resolves once durable. With `{ ttl }` (ms) the key
   * expires that long after this call; without, any lifetime it had goes.
   */
  put(key: KIn, value: VIn, options?: WriteOptions): Promise<void> {
    if (this.binaryKeys && this.binaryValues) return this.ks.put(key as Bytes, value as Bytes, options);
    let k: Bytes;
    let v: Bytes;
    try {
      k = this.keyIn(key);
      v = this.valueIn(value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.ks.put(k, v, options);
  }

  /** Remove `key`; resolves true if a live value was removed. */
  delete(key: KIn): Promise<boolean> {
    return this.encoded(() => this.ks.delete(this.keyIn(key)));
  }

  /** Set `key` only if absent or expired (kivaloo ADD); resolves whether it was set. */
  add(key: KIn, value: VIn, options?: WriteOptions): Promise<boolean> {
    return this.encoded(() => this.ks.add(this.keyIn(key), this.valueIn(value), options));
  }

  /** Set `key` only if present (kivaloo MODIFY); resolves whether it was set. */
  modify(key: KIn, value: VIn, options?: WriteOptions): Promise<boolean> {
    return this.encoded(() => this.ks.modify(this.keyIn(key), this.valueIn(value), options));
  }

  /** Set `key` to `value` only if its current value equals `expected` (kivaloo CAS); compares the encoded bytes. */
  cas(key: KIn, expected: VIn, value: VIn, options?: WriteOptions): Promise<boolean> {
    return this.encoded(() => this.ks.cas(this.keyIn(key), this.valueIn(expected), this.valueIn(value), options));
  }

  /** Delete `key` only if its current value equals `expected` (kivaloo CAD); compares the encoded bytes. */
  cad(key: KIn, expected: VIn): Promise<boolean> {
    return this.encoded(() => this.ks.cad(this.keyIn(key), this.valueIn(expected)));
  }

  /** Set or replace the lifetime of `key` (ms from now; 0 or less deletes it); resolves whether the key exists. */
  expire(key: KIn, ms: number): Promise<boolean> {
    return this.encoded(() => this.ks.expire(this.keyIn(key), ms));
  }

  /** Remove the lifetime of `key`; resolves whether it had one. */
  persist(key: KIn): Promise<boolean> {
    return this.encoded(() => this.ks.persist(this.keyIn(key)));
  }

  /**
   * Add `by` (default 1) to the counter at `key`, stored as decimal ASCII
   * digits whatever the value encoding (absent counts as 0); resolves with
   * the new value (a number, or a bigint past 2^53). BIRCH_NOT_AN_INTEGER if
   * the value is not a 64-bit signed integer or the result would leave that
   * range (nothing changes). Keeps the key's lifetime.
   */
  incr(key: KIn, by: number | bigint = 1): Promise<number | bigint> {
    return this.encoded(() => {
      // Decimal digits read back as the number under 'utf8' (a string) and 'json'; msgpack would read "5" as 53.
      if (this.vc.encoding === 'msgpack') throw notForEncoding('incr', 'msgpack');
      return this.ks.incr(this.keyIn(key), by);
    });
  }

  /**
   * Append `bytes` to the stored bytes of `key` (absent: empty), whatever the
   * value encoding; resolves with the new length. BIRCH_VALUE_TOO_LARGE past
   * 255 bytes (nothing changes). Keeps the key's lifetime.
   */
  append(key: KIn, bytes: Bytes): Promise<number> {
    return this.encoded(() => {
      // Bytes appended to a JSON or msgpack value do not make a value of that encoding.
      if (this.vc.encoding === 'json' || this.vc.encoding === 'msgpack') throw notForEncoding('append', this.vc.encoding);
      return this.ks.append(this.keyIn(key), bytes);
    });
  }

  /** Apply puts and deletes atomically: all of them or, on any error, none. */
  batch(ops: Array<AccessBatchOp<KIn, VIn>>): Promise<void> {
    return this.encoded(() => {
      if (!Array.isArray(ops)) throw new BirchError('BIRCH_BAD_ARGUMENT', `batch needs an array of operations, got ${ops === null ? 'null' : typeof ops}`);
      return this.ks.batch(
        ops.map((op, i) => {
          if (typeof op === 'object' && op !== null && (op as { table?: unknown }).table !== undefined) {
            throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i} names a table: a table's batch writes that table only (a store's batch takes table fields)`);
          }
          return this.encodeOp(op, i);
        }),
      );
    });
  }

  /** @internal One batch operation, checked and encoded, in this keyspace. */
  encodeOp(op: unknown, i: number): EncodedOp {
    if (typeof op !== 'object' || op === null) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i} must be an object, got ${op === null ? 'null' : typeof op}`);
    }
    const o = op as { type?: unknown; key?: unknown; value?: unknown; ttl?: unknown };
    const named = <T>(f: () => T): T => inBatchOp(i, f);
    if (o.type === 'put') {
      return { ks: this.ks, type: 'put', key: named(() => this.keyIn(o.key as KIn)), value: named(() => this.valueIn(o.value as VIn)), ttl: o.ttl };
    }
    if (o.type === 'del') return { ks: this.ks, type: 'del', key: named(() => this.keyIn(o.key as KIn)) };
    throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i} has type ${String(o.type)}; expected 'put' or 'del'`);
  }

  /** @internal */
  protected valueIn(value: VIn): Bytes {
    return this.binaryValues ? (value as Bytes) : this.vc.encode(value);
  }

  /** Run `f`, turning what it throws (a bad key or value) into a rejection. */
  private encoded<T>(f: () => Promise<T>): Promise<T> {
    try {
      return f();
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
