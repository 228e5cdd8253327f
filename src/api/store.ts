/**
 * The public store: `open(path)` and the `Store` handle.
 *
 * Consistency: operations apply in the order they were issued. Reads (get,
 * range, keys, snapshot) see the latest COMMITTED state: a write is visible
 * once its promise has resolved, and never before (queued writes that have not
 * committed are invisible, as in kivaloo), and a batch is visible whole or not
 * at all.
 *
 * Returned buffers are copies: birch never changes them afterwards, and
 * changing them does not change the store.
 */
import { BirchError } from '../errors.js';
import { checkTree, RangeIterator, Tree, type Commit, type Op } from '../btree/index.js';
import { Cleaner, type CleanerStats } from '../cleaner/index.js';
import { BlockStore } from '../lbs/index.js';
import { batchIn, entryIn, keyIn, keyView, rangeIn, valueIn } from './input.js';
import { resolveOptions } from './options.js';
import type { BatchOp, Bytes, CheckReport, OpenOptions, RangeOptions, Snapshot, StoreStats } from './types.js';

const pair = (k: Buffer, v: Buffer): [Buffer, Buffer] => [Buffer.from(k), Buffer.from(v)];
const keyOnly = (k: Buffer): Buffer => Buffer.from(k);

/** Open (creating if needed) the store in directory `path`. Synchronous. */
export function open(path: string, options?: OpenOptions): Store {
  if (typeof path !== 'string' || path.length === 0) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', 'open needs a directory path (a non-empty string)');
  }
  const o = resolveOptions(options);
  const lbs = BlockStore.open(path, {
    ...(o.blockSize !== undefined && { blockSize: o.blockSize }),
    ...(o.segmentSize !== undefined && { segmentSize: o.segmentSize }),
    ...(o.io !== undefined && { io: o.io }),
    sync: o.sync,
  });
  try {
    const tree = new Tree(lbs, { cacheSize: o.cacheSize });
    return new Store(lbs, tree, o.cleaning, o.spaceTarget);
  } catch (err) {
    lbs.closeSync(); // synchronously: a retried open() must not find the lock still held
    throw err;
  }
}

export type StoreStatsAll = StoreStats & CleanerStats;

/** What a snapshot's iterators hold of their snapshot. */
interface SnapshotState {
  /** Throws BIRCH_CLOSED once the snapshot is released or the store closed. */
  alive: () => void;
  /** Release functions of the snapshot's unfinished iterators. */
  iterators: Set<() => void>;
  /** The snapshot itself: kept reachable while any of its iterators is. */
  snapshot: Snapshot | undefined;
}

/** Releases the pins of snapshots and iterators that were dropped unreleased. */
const leaks = new FinalizationRegistry<() => void>((release) => release());

/**
 * Pin `commit` for a reader; `release` (idempotent) unpins it, after
 * releasing `children` (a snapshot's iterators) and leaving `siblings`.
 *
 * Made here, in a scope of its own, on purpose: `leaks` holds `release`
 * strongly, so nothing `release` closes over may reach the iterator or
 * snapshot registered with it, or that reader could never be collected (V8
 * closures made in one function share one context, so a release function
 * made beside the reader's own closures would keep the reader alive).
 */
function pinCommit(
  tree: Tree,
  commit: Commit,
  siblings: Set<() => void> | undefined,
  children: Set<() => void> | undefined,
): { release: () => void; released: () => boolean; token: object } {
  tree.pin(commit);
  let done = false;
  const token = {};
  const release = (): void => {
    if (done) return;
    done = true;
    leaks.unregister(token);
    siblings?.delete(release);
    if (children !== undefined) for (const r of [...children]) r();
    tree.unpin(commit);
    void tree.releaseSpace();
  };
  siblings?.add(release);
  return { release, released: () => done, token };
}

export class Store {
  readonly #lbs: BlockStore;
  readonly #tree: Tree;
  readonly #cleaner: Cleaner;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** @internal Use open(). */
  constructor(lbs: BlockStore, tree: Tree, cleaning: number, spaceTarget: number) {
    this.#lbs = lbs;
    this.#tree = tree;
    this.#cleaner = new Cleaner(tree, { cleaning, spaceTarget });
    this.#cleaner.start();
  }

  /** The latest committed value of `key`, or undefined. */
  get(key: Bytes): Buffer | undefined {
    this.#checkOpen();
    return this.#tree.get(keyView(key));
  }

  /** Set `key` to `value`; resolves once durable. */
  put(key: Bytes, value: Bytes): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkWritable();
      const op: Op = { t: 'put', entry: entryIn(key, value) };
      this.#tree.submit({ op, resolve: resolve as () => void, reject });
    });
  }

  /** Remove `key`; resolves true if a value was removed. */
  delete(key: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ t: 'del', key: keyIn(key) }));
  }

  /** Set `key` only if absent (kivaloo ADD); resolves whether it was set. */
  add(key: Bytes, value: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ t: 'add', entry: entryIn(key, value) }));
  }

  /** Set `key` only if present (kivaloo MODIFY); resolves whether it was set. */
  modify(key: Bytes, value: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ t: 'modify', entry: entryIn(key, value) }));
  }

  /** Set `key` to `value` only if its current value equals `expected` (kivaloo CAS). */
  cas(key: Bytes, expected: Bytes, value: Bytes): Promise<boolean> {
    return this.#write(
      (): Op => ({ t: 'cas', entry: entryIn(key, value), expected: valueIn(expected, 'expected value') }),
    );
  }

  /** Delete `key` only if its current value equals `expected` (kivaloo CAD). */
  cad(key: Bytes, expected: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ t: 'cad', key: keyIn(key), expected: valueIn(expected, 'expected value') }));
  }

  /** Apply puts and deletes atomically: all of them or, on any error, none. */
  batch(ops: BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkWritable();
      const parsed = batchIn(ops);
      if (parsed.length === 0) return resolve();
      this.#tree.submit({ op: parsed, resolve: resolve as () => void, reject });
    });
  }

  #write(make: () => Op): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#checkWritable();
      const op = make();
      this.#tree.submit({ op, resolve: resolve as (r?: boolean) => void, reject });
    });
  }

  /** Pairs in key order (or reverse), read lazily from the current commit. */
  range(opts?: RangeOptions): IterableIterator<[Buffer, Buffer]> {
    this.#checkOpen();
    return this.#iterate(this.#tree.committed, opts, pair, undefined);
  }

  /** Keys in key order (or reverse), read lazily from the current commit. */
  keys(opts?: RangeOptions): IterableIterator<Buffer> {
    this.#checkOpen();
    return this.#iterate(this.#tree.committed, opts, keyOnly, undefined);
  }

  #iterate<T>(
    commit: Commit,
    opts: RangeOptions | undefined,
    make: (k: Buffer, v: Buffer) => T,
    owner: SnapshotState | undefined,
  ): IterableIterator<T> {
    const r = rangeIn(opts);
    const tree = this.#tree;
    const pin = pinCommit(tree, commit, owner?.iterators, undefined);
    let it: RangeIterator<T>;
    try {
      it = new RangeIterator(tree.cache, commit.root, r.lo, r.hi, r.reverse, r.limit, make, pin.release);
    } catch (err) {
      pin.release();
      throw err;
    }
    if (!pin.released()) leaks.register(it, pin.release, pin.token);
    if (owner === undefined) return it;
    // A snapshot's iterator refuses to go on once the snapshot is released.
    // It refers to the snapshot (through `owner`), so a snapshot dropped
    // while one of its iterators is still in use is not finalized under it.
    return {
      [Symbol.iterator]() {
        return this;
      },
      next: () => {
        owner.alive();
        return it.next();
      },
      return: () => it.return(),
    };
  }

  /** A consistent read-only view of the current commit; release() it when done. */
  snapshot(): Snapshot {
    this.#checkOpen();
    const commit = this.#tree.committed;
    const tree = this.#tree;
    // Unfinished iterators of this snapshot: they cannot go on once it is
    // released, so release() gives their pins back too.
    const iterators = new Set<() => void>();
    const pin = pinCommit(tree, commit, undefined, iterators);
    const alive = (): void => {
      if (pin.released()) throw new BirchError('BIRCH_CLOSED', 'snapshot was released');
      this.#checkOpen();
    };
    const owner: SnapshotState = { alive, iterators, snapshot: undefined };
    const snap: Snapshot = {
      get: (key) => {
        alive();
        return tree.lookupIn(commit, keyView(key));
      },
      range: (opts) => {
        alive();
        return this.#iterate(commit, opts, pair, owner);
      },
      keys: (opts) => {
        alive();
        return this.#iterate(commit, opts, keyOnly, owner);
      },
      release: pin.release,
    };
    owner.snapshot = snap;
    leaks.register(snap, pin.release, pin.token);
    return snap;
  }

  /** Figures about the store; see StoreStats. */
  stats(): StoreStatsAll {
    this.#checkOpen();
    const c = this.#tree.committed;
    const l = this.#lbs.stats();
    const cache = this.#tree.cache;
    const lookups = cache.hits + cache.misses;
    const t = this.#tree;
    return {
      keys: c.keys,
      height: c.height,
      pagesLive: c.pages,
      pagesOnDisk: l.blocksOnDisk,
      bytesOnDisk: l.bytesOnDisk,
      blockSize: l.blockSize,
      cacheBytes: cache.usedBytes,
      cacheLimit: cache.limit,
      cacheNodes: cache.size,
      cacheHits: cache.hits,
      cacheMisses: cache.misses,
      cacheHitRate: lookups === 0 ? 0 : cache.hits / lookups,
      commits: t.commits,
      requests: t.requests,
      averageBatch: t.commits === 0 ? 0 : t.requests / t.commits,
      ...this.#cleaner.stats(),
    };
  }

  /** Walk the whole committed tree and verify it; see CheckReport. */
  check(): CheckReport {
    this.#checkOpen();
    return checkTree(this.#lbs, this.#tree.committed, this.#tree.nodeCapacity);
  }

  /** Clean as hard as possible now (rewrite every old leaf), free the space, then resolve. */
  reclaim(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkWritable();
      this.#cleaner.reclaim().then(resolve, reject);
    });
  }

  /** Finish queued writes, stop the cleaner, and release the store. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      await this.#cleaner.stop();
      await this.#tree.idle();
      await this.#lbs.close();
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#lbs.closed) throw new BirchError('BIRCH_CLOSED', 'store is closed');
  }

  #checkWritable(): void {
    if (this.#closed) throw new BirchError('BIRCH_CLOSED', 'store is closed');
  }
}
