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
import * as nodePath from 'node:path';
import { BirchError } from '../errors.js';
import { EntryArena, KS_STORE, MIN_TREE_BLOCK_SIZE, Tree } from '../btree/index.js';
import { Cleaner, type CleanerStats } from '../cleaner/index.js';
import { BlockStore } from '../lbs/index.js';
import { batchIn, type Space } from './input.js';
import { Keyspace, type Owner } from './keyspace.js';
import { resolveOptions } from './options.js';
import { backupCommit, checkBackupDest } from './backup.js';
import { keyOnly, pair, snapshotOf } from './readers.js';
import type {
  BackupOptions,
  BackupResult,
  BatchOp,
  Bytes,
  CheckReport,
  OpenOptions,
  RangeOptions,
  Snapshot,
  StoreStats,
  WriteOptions,
} from './types.js';

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
    if (lbs.blockSize < MIN_TREE_BLOCK_SIZE) {
      throw new BirchError(
        'BIRCH_BLOCK_SIZE',
        `store ${lbs.dir} has blocks of ${lbs.blockSize} bytes; the B+tree needs ${MIN_TREE_BLOCK_SIZE} or more`,
      );
    }
    const tree = new Tree(lbs, { cacheSize: o.cacheSize, strict: o.strict });
    return new Store(lbs, tree, o.cleaning, o.spaceTarget, o.segmentSize);
  } catch (err) {
    lbs.closeSync(); // synchronously: a retried open() must not find the lock still held
    throw err;
  }
}

export type StoreStatsAll = StoreStats & CleanerStats;

/** The tree behind each store, for the api's own helpers (dump.ts); not exported from the package. */
const trees = new WeakMap<Store, Tree>();

/** @internal The tree behind `db` (api/dump.ts reads it without copying every pair). */
export function treeOf(db: Store): Tree {
  const t = trees.get(db);
  if (t === undefined) throw new BirchError('BIRCH_BAD_ARGUMENT', 'not a store made by open()');
  return t;
}

const closedError = (): BirchError => new BirchError('BIRCH_CLOSED', 'store is closed');

/** The store's own keys: keyspace 0, no prefix (btree/entry.ts). */
const STORE_SPACE: Space = { keyspace: KS_STORE, prefix: new Uint8Array(0) };

export class Store {
  readonly #lbs: BlockStore;
  readonly #tree: Tree;
  readonly #cleaner: Cleaner;
  readonly #segmentSize: number | undefined;
  /** Backups running; close() waits for them to stop. */
  readonly #backups = new Set<Promise<unknown>>();

  /** Where queued writes keep their pairs (btree/arena.ts). */
  readonly #arena = new EntryArena();
  /** The store's own keys. */
  readonly #own: Keyspace;
  #closing: Promise<void> | undefined;

  /** @internal Use open(). */
  constructor(lbs: BlockStore, tree: Tree, cleaning: number, spaceTarget: number, segmentSize?: number) {
    this.#lbs = lbs;
    this.#tree = tree;
    this.#segmentSize = segmentSize;
    trees.set(this, tree);
    const owner: Owner = {
      tree,
      arena: this.#arena,
      checkReadable: () => this.#checkNotReleased(),
      checkWritable: () => this.#checkNotClosing(),
    };
    this.#own = new Keyspace(owner, { read: () => STORE_SPACE, write: () => ({ space: STORE_SPACE, before: undefined }) });
    this.#cleaner = new Cleaner(tree, { cleaning, spaceTarget });
    this.#cleaner.start();
  }

  /** The latest committed value of `key`, or undefined (also once it expired). */
  get(key: Bytes): Buffer | undefined {
    return this.#own.get(key);
  }

  /**
   * Set `key` to `value`; resolves once durable. With `{ ttl }` (ms) the key
   * expires that long after this call; without, any lifetime it had goes.
   */
  put(key: Bytes, value: Bytes, options?: WriteOptions): Promise<void> {
    return this.#own.put(key, value, options);
  }

  /** Remove `key`; resolves true if a value was removed. */
  delete(key: Bytes): Promise<boolean> {
    return this.#own.delete(key);
  }

  /** Set `key` only if absent or expired (kivaloo ADD); resolves whether it was set. */
  add(key: Bytes, value: Bytes, options?: WriteOptions): Promise<boolean> {
    return this.#own.add(key, value, options);
  }

  /** Set `key` only if present (kivaloo MODIFY); resolves whether it was set. */
  modify(key: Bytes, value: Bytes, options?: WriteOptions): Promise<boolean> {
    return this.#own.modify(key, value, options);
  }

  /** Set `key` to `value` only if its current value equals `expected` (kivaloo CAS). */
  cas(key: Bytes, expected: Bytes, value: Bytes, options?: WriteOptions): Promise<boolean> {
    return this.#own.cas(key, expected, value, options);
  }

  /** Delete `key` only if its current value equals `expected` (kivaloo CAD). */
  cad(key: Bytes, expected: Bytes): Promise<boolean> {
    return this.#own.cad(key, expected);
  }

  /** Set or replace the lifetime of `key` (ms from now; 0 or less deletes it); resolves whether the key exists. */
  expire(key: Bytes, ms: number): Promise<boolean> {
    return this.#own.expire(key, ms);
  }

  /** Remove the lifetime of `key`; resolves whether it had one. */
  persist(key: Bytes): Promise<boolean> {
    return this.#own.persist(key);
  }

  /** Milliseconds `key` has left; Infinity if it does not expire; undefined if absent or expired. */
  ttl(key: Bytes): number | undefined {
    return this.#own.ttl(key);
  }

  /**
   * Add `by` (default 1) to the counter at `key`, stored as decimal ASCII
   * digits (absent counts as 0); resolves with the new value (a number, or
   * a bigint past 2^53). BIRCH_NOT_AN_INTEGER if the value is not a 64-bit
   * signed integer or the result would leave that range (nothing changes).
   * Keeps the key's lifetime.
   */
  incr(key: Bytes, by: number | bigint = 1): Promise<number | bigint> {
    return this.#own.incr(key, by);
  }

  /** Append `bytes` to the value at `key` (absent: empty); resolves with the new length. BIRCH_VALUE_TOO_LARGE past 255 bytes (nothing changes). Keeps the key's lifetime. */
  append(key: Bytes, bytes: Bytes): Promise<number> {
    return this.#own.append(key, bytes);
  }

  /** Apply puts and deletes atomically: all of them or, on any error, none. */
  batch(ops: BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkNotClosing();
      const parsed = batchIn(this.#arena, ops, () => STORE_SPACE, this.#tree.now());
      if (parsed.length === 0) return resolve();
      this.#tree.submit({ op: parsed, resolve: resolve as () => void, reject });
    });
  }

  /** Pairs in key order (or reverse), read lazily from the current commit. */
  range(opts?: RangeOptions): IterableIterator<[Buffer, Buffer]> {
    return this.#own.iterate(opts, pair);
  }

  /** Keys in key order (or reverse), read lazily from the current commit. */
  keys(opts?: RangeOptions): IterableIterator<Buffer> {
    return this.#own.iterate(opts, keyOnly);
  }

  /** A consistent read-only view of the current commit; release() it when done. */
  snapshot(): Snapshot {
    this.#checkNotReleased();
    return snapshotOf(this.#tree, this.#tree.committed, () => this.#checkNotReleased(), this.#own);
  }

  /** Figures about the store; see StoreStats. */
  stats(): StoreStatsAll {
    this.#checkNotReleased();
    const c = this.#tree.committed;
    const l = this.#lbs.stats();
    const t = this.#tree.stats();
    const lookups = t.cacheHits + t.cacheMisses;
    return {
      keys: c.keys,
      height: c.height,
      pagesLive: c.pages,
      pagesOnDisk: l.blocksOnDisk,
      bytesOnDisk: l.bytesOnDisk,
      blockSize: l.blockSize,
      cacheBytes: t.cacheBytes,
      cacheLimit: t.cacheLimit,
      cacheNodes: t.cacheNodes,
      cacheHits: t.cacheHits,
      cacheMisses: t.cacheMisses,
      cacheHitRate: lookups === 0 ? 0 : t.cacheHits / lookups,
      commits: t.commits,
      requests: t.requests,
      averageBatch: t.commits === 0 ? 0 : t.requests / t.commits,
      ...this.#cleaner.stats(),
    };
  }

  /** Walk the whole committed tree and verify it; see CheckReport. */
  check(): CheckReport {
    this.#checkNotReleased();
    return this.#tree.check();
  }

  /** Clean as hard as possible now (rewrite every old leaf), free the space, then resolve. */
  reclaim(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkNotClosing();
      this.#cleaner.reclaim().then(resolve, reject);
    });
  }

  /**
   * Copy the latest commit into a new store at `dest` (a missing or empty
   * directory), while reads and writes go on; resolves once `dest` holds a
   * complete, fsynced store of exactly that commit: every write acknowledged
   * before backup() was called, and none of a later batch. Only the live
   * pages are copied (leaves byte for byte), so the backup is about the size
   * of the live data. The cleaner frees none of the pages the backup still
   * needs. Until it resolves, `dest` is not a store; a failed backup removes
   * what it wrote; closing the store stops a running backup (BIRCH_CLOSED).
   */
  backup(dest: string, options?: BackupOptions): Promise<BackupResult> {
    return new Promise<BackupResult>((resolve, reject) => {
      this.#checkNotClosing();
      if (typeof dest !== 'string' || dest.length === 0) {
        throw new BirchError('BIRCH_BAD_ARGUMENT', 'backup needs a destination directory (a non-empty string)');
      }
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw new BirchError('BIRCH_BAD_ARGUMENT', 'backup options must be an object');
      }
      if (options?.onProgress !== undefined && typeof options.onProgress !== 'function') {
        throw new BirchError('BIRCH_BAD_ARGUMENT', 'backup option onProgress must be a function');
      }
      const to = nodePath.resolve(dest);
      checkBackupDest(this.#lbs.dir, to);
      // The commit now: everything acknowledged before this call. Pinned at
      // once, so no later commit's free() can take its pages.
      const commit = this.#tree.committed;
      this.#tree.pin(commit);
      const alive = (): void => {
        if (this.#closing !== undefined) throw new BirchError('BIRCH_CLOSED', 'store is closed');
      };
      const run = backupCommit(this.#tree, commit, to, this.#segmentSize, alive, options).finally(() => {
        this.#tree.unpin(commit);
        void this.#tree.releaseSpace();
      });
      const tracked = run.then(
        () => undefined,
        () => undefined,
      );
      this.#backups.add(tracked);
      void tracked.finally(() => this.#backups.delete(tracked));
      run.then(resolve, reject);
    });
  }

  /** Finish queued writes, stop the cleaner and any backup, and release the store. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      await Promise.all([...this.#backups]);
      await this.#cleaner.stop();
      await this.#tree.idle();
      await this.#lbs.close();
    })();
    return this.#closing;
  }

  /** Reads work until close() has finished (the files are released). */
  #checkNotReleased(): void {
    if (this.#lbs.closed) throw new BirchError('BIRCH_CLOSED', 'store is closed');
  }

  /** Writes are refused from the moment close() is called (queued ones still finish). */
  #checkNotClosing(): void {
    if (this.#closing !== undefined) throw closedError();
  }
}
