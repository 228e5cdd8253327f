/**
 * The server's one door to the store: the Store calls the commands use,
 * typed as the public API gives them (expiring keys, counters and append
 * included).
 *
 * Every write is counted while in flight (`inflight`), so the gate
 * (gate.ts) knows when the committed tree is the latest state.
 *
 * @internal
 */
import { BirchError, type RangeOptions, type Store } from '../index.js';

/** A batch operation, as Store.batch takes it; `ttl` is ms from the moment the batch is issued. */
export type Op = { type: 'put'; key: Buffer; value: Buffer; ttl?: number } | { type: 'del'; key: Buffer };

export const KEY_LIMIT = 255;
export const VALUE_LIMIT = 255;

export class Backend {
  readonly store: Store;
  /** Writes issued and not yet settled. */
  inflight = 0;
  /** Called each time inflight drops to 0. */
  onIdle: () => void = () => {};

  constructor(store: Store) {
    this.store = store;
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

  // Reads: the latest committed state. Expired keys are absent to all of them.

  get(key: Buffer): Buffer | undefined {
    return this.store.get(key);
  }

  range(opts: RangeOptions): IterableIterator<[Buffer, Buffer]> {
    return this.store.range(opts);
  }

  keys(opts: RangeOptions): IterableIterator<Buffer> {
    return this.store.keys(opts);
  }

  /** Milliseconds left, Infinity without expiry, undefined if missing or expired. */
  ttl(key: Buffer): number | undefined {
    return this.store.ttl(key);
  }

  /** Keys in the committed tree; may count expired keys the store has not purged yet (as Redis's DBSIZE). */
  count(): number {
    return this.store.stats().keys;
  }

  // Writes: each resolves once durable. `ttlMs` (> 0) gives the key a
  // lifetime from now; without it a put clears any lifetime (Redis's SET).

  /** Set `key`; `ttlMs`: a lifetime, 'keep' to keep the one it has (KEEPTTL, decided in the commit), absent to clear it. */
  put(key: Buffer, value: Buffer, ttlMs?: number | 'keep'): Promise<void> {
    return this.#track(this.store.put(key, value, writeOptions(ttlMs)));
  }

  /** Set only if absent (or expired). */
  add(key: Buffer, value: Buffer, ttlMs?: number): Promise<boolean> {
    return this.#track(ttlMs === undefined ? this.store.add(key, value) : this.store.add(key, value, { ttl: ttlMs }));
  }

  /** Set only if present (and not expired). */
  modify(key: Buffer, value: Buffer, ttlMs?: number | 'keep'): Promise<boolean> {
    return this.#track(this.store.modify(key, value, writeOptions(ttlMs)));
  }

  /** Whether a live key was removed. */
  delete(key: Buffer): Promise<boolean> {
    return this.#track(this.store.delete(key));
  }

  batch(ops: Op[]): Promise<void> {
    return this.#track(this.store.batch(ops));
  }

  /** Give an existing key a lifetime of `ms` from now (`ms <= 0` deletes it); whether the key existed. */
  expire(key: Buffer, ms: number): Promise<boolean> {
    return this.#track(this.store.expire(key, ms));
  }

  /** Remove a key's lifetime; whether it had one. */
  persist(key: Buffer): Promise<boolean> {
    return this.#track(this.store.persist(key));
  }

  /** Add `by` to the decimal counter at `key` (absent: 0), keeping its lifetime; BIRCH_NOT_AN_INTEGER if it is not an int64 or would overflow. */
  incr(key: Buffer, by: bigint): Promise<number | bigint> {
    return this.#track(this.store.incr(key, by));
  }

  /** Append to the value at `key` (absent: empty), keeping its lifetime; the new length, or BIRCH_VALUE_TOO_LARGE past 255 bytes. */
  append(key: Buffer, bytes: Buffer): Promise<number> {
    return this.#track(this.store.append(key, bytes));
  }
}

/** The error reply for a store error (BIRCH_IO, BIRCH_CLOSED, ...). */
export function storeErrorText(err: unknown): string {
  if (err instanceof BirchError) return `ERR birch ${err.code}: ${err.message}`;
  return `ERR birch: ${err instanceof Error ? err.message : String(err)}`;
}

/** A write's options from a lifetime in ms, 'keep' (KEEPTTL), or none. */
function writeOptions(ttlMs: number | 'keep' | undefined): { ttl: number } | { keepTtl: true } | undefined {
  if (ttlMs === undefined) return undefined;
  return ttlMs === 'keep' ? { keepTtl: true } : { ttl: ttlMs };
}
