/**
 * The server's one door to the store: the Store calls the commands use,
 * plus the features of "The data model users expect" (issue 13: expiring
 * keys, counters, append), detected at run time. Until the store has them,
 * the calls that need them throw NotSupported, which the commands turn into
 * an error reply; once `Store` has `expire`, `persist`, `ttl`, `incr` and
 * `append`, they work with no change here beyond the types.
 *
 * Every write is counted while in flight (`inflight`), so the gate
 * (gate.ts) knows when the committed tree is the latest state.
 *
 * @internal
 */
import { BirchError, type Bytes, type RangeOptions, type Store } from '../index.js';

/** A command that needs a store feature this build does not have yet. */
export class NotSupported extends Error {
  override readonly name = 'NotSupported';
}

/** A batch operation; `ttl` (ms from now) needs expiring keys. */
export type Op = { type: 'put'; key: Buffer; value: Buffer; ttl?: number } | { type: 'del'; key: Buffer };

/** The calls issue 13 adds to Store, as that issue specifies them. */
interface DataModel {
  put(key: Bytes, value: Bytes, options?: { ttl?: number }): Promise<void>;
  batch(ops: Array<{ type: 'put'; key: Bytes; value: Bytes; ttl?: number } | { type: 'del'; key: Bytes }>): Promise<void>;
  expire(key: Bytes, ms: number): Promise<boolean>;
  persist(key: Bytes): Promise<boolean>;
  ttl(key: Bytes): number | undefined;
  incr(key: Bytes, by?: number | bigint): Promise<number | bigint>;
  append(key: Bytes, bytes: Bytes): Promise<number>;
}

export const KEY_LIMIT = 255;
export const VALUE_LIMIT = 255;

export class Backend {
  readonly store: Store;
  /** Expiring keys: put with ttl, expire, persist, ttl. */
  readonly expiry: boolean;
  /** incr(key, by). */
  readonly counters: boolean;
  /** append(key, bytes). */
  readonly appends: boolean;
  /** Writes issued and not yet settled. */
  inflight = 0;
  /** Called each time inflight drops to 0. */
  onIdle: () => void = () => {};
  readonly #dm: DataModel;

  constructor(store: Store) {
    this.store = store;
    const s = store as unknown as Partial<Record<keyof DataModel, unknown>>;
    this.expiry = typeof s.expire === 'function' && typeof s.persist === 'function' && typeof s.ttl === 'function';
    this.counters = typeof s.incr === 'function';
    this.appends = typeof s.append === 'function';
    this.#dm = store as unknown as DataModel;
  }

  /** Count `p` as in flight until it settles. */
  #track<T>(p: Promise<T>): Promise<T> {
    this.inflight++;
    const done = (): void => {
      if (--this.inflight === 0) this.onIdle();
    };
    p.then(done, done);
    return p;
  }

  // Reads: the latest committed state.

  get(key: Buffer): Buffer | undefined {
    return this.store.get(key);
  }

  range(opts: RangeOptions): IterableIterator<[Buffer, Buffer]> {
    return this.store.range(opts);
  }

  keys(opts: RangeOptions): IterableIterator<Buffer> {
    return this.store.keys(opts);
  }

  /** Keys in the committed tree (with expiring keys: may count expired ones not yet purged). */
  count(): number {
    return this.store.stats().keys;
  }

  // Writes: each resolves once durable.

  put(key: Buffer, value: Buffer): Promise<void> {
    return this.#track(this.store.put(key, value));
  }

  add(key: Buffer, value: Buffer): Promise<boolean> {
    return this.#track(this.store.add(key, value));
  }

  modify(key: Buffer, value: Buffer): Promise<boolean> {
    return this.#track(this.store.modify(key, value));
  }

  delete(key: Buffer): Promise<boolean> {
    return this.#track(this.store.delete(key));
  }

  batch(ops: Op[]): Promise<void> {
    for (const op of ops) if (op.type === 'put' && op.ttl !== undefined) this.needExpiry('a write with a time to live');
    return this.#track(this.expiry ? this.#dm.batch(ops) : this.store.batch(ops));
  }

  // Issue 13: expiring keys, counters, append.

  /** Throws NotSupported unless the store has expiring keys. */
  needExpiry(what: string): void {
    if (!this.expiry) throw new NotSupported(`${what} needs expiring keys, which this birch store does not support yet`);
  }

  putTtl(key: Buffer, value: Buffer, ttlMs: number): Promise<void> {
    this.needExpiry('a time to live');
    return this.#track(this.#dm.put(key, value, { ttl: ttlMs }));
  }

  expire(key: Buffer, ms: number): Promise<boolean> {
    this.needExpiry('EXPIRE');
    return this.#track(this.#dm.expire(key, ms));
  }

  persist(key: Buffer): Promise<boolean> {
    this.needExpiry('PERSIST');
    return this.#track(this.#dm.persist(key));
  }

  /** Milliseconds left, Infinity without expiry, undefined if missing. */
  ttl(key: Buffer): number | undefined {
    this.needExpiry('TTL');
    return this.#dm.ttl(key);
  }

  incr(key: Buffer, by: bigint): Promise<bigint> {
    if (!this.counters) throw new NotSupported('INCR needs counters, which this birch store does not support yet');
    // A 64-bit count may not fit a JavaScript number: pass a bigint when it does not.
    const arg = by >= BigInt(Number.MIN_SAFE_INTEGER) && by <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(by) : by;
    return this.#track(this.#dm.incr(key, arg).then((n) => BigInt(n)));
  }

  append(key: Buffer, bytes: Buffer): Promise<number> {
    if (!this.appends) throw new NotSupported('APPEND needs append, which this birch store does not support yet');
    return this.#track(this.#dm.append(key, bytes));
  }
}

/** The error reply for a store error (BIRCH_IO, BIRCH_CLOSED, ...). */
export function storeErrorText(err: unknown): string {
  if (err instanceof NotSupported) return `ERR ${err.message}`;
  if (err instanceof BirchError) return `ERR birch ${err.code}: ${err.message}`;
  return `ERR birch: ${err instanceof Error ? err.message : String(err)}`;
}
