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
import { EntryArena, MIN_TREE_BLOCK_SIZE, Tree, type Op } from '../btree/index.js';
import { Cleaner, type CleanerStats } from '../cleaner/index.js';
import { BlockStore } from '../lbs/index.js';
import { batchIn, entryIn, keyIn, keyView, valueIn } from './input.js';
import { resolveOptions } from './options.js';
import { backupCommit, checkBackupDest } from './backup.js';
import { iterate, keyOnly, pair, snapshotOf } from './readers.js';
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

export class Store {
  readonly #lbs: BlockStore;
  readonly #tree: Tree;
  readonly #cleaner: Cleaner;
  readonly #segmentSize: number | undefined;
  /** Backups running; close() waits for them to stop. */
  readonly #backups = new Set<Promise<unknown>>();

  /** Where queued writes keep their pairs (btree/arena.ts). */
  readonly #arena = new EntryArena();
  #closing: Promise<void> | undefined;

  /** @internal Use open(). */
  constructor(lbs: BlockStore, tree: Tree, cleaning: number, spaceTarget: number, segmentSize?: number) {
    this.#lbs = lbs;
    this.#tree = tree;
    this.#segmentSize = segmentSize;
    trees.set(this, tree);
    this.#cleaner = new Cleaner(tree, { cleaning, spaceTarget });
    this.#cleaner.start();
  }

  /** The latest committed value of `key`, or undefined. */
  get(key: Bytes): Buffer | undefined {
    this.#checkNotReleased();
    return this.#tree.get(keyView(key));
  }

  /** Set `key` to `value`; resolves once durable. */
  put(key: Bytes, value: Bytes): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(closedError());
    let entry: Buffer;
    try {
      entry = entryIn(this.#arena, key, value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#tree.submitShared({ kind: 'put', entry, off: this.#arena.at });
  }

  /** Remove `key`; resolves true if a value was removed. */
  delete(key: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ kind: 'del', key: keyIn(key) }));
  }

  /** Set `key` only if absent (kivaloo ADD); resolves whether it was set. */
  add(key: Bytes, value: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ kind: 'add', entry: entryIn(this.#arena, key, value), off: this.#arena.at }));
  }

  /** Set `key` only if present (kivaloo MODIFY); resolves whether it was set. */
  modify(key: Bytes, value: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ kind: 'modify', entry: entryIn(this.#arena, key, value), off: this.#arena.at }));
  }

  /** Set `key` to `value` only if its current value equals `expected` (kivaloo CAS). */
  cas(key: Bytes, expected: Bytes, value: Bytes): Promise<boolean> {
    return this.#write(
      (): Op => ({ kind: 'cas', entry: entryIn(this.#arena, key, value), off: this.#arena.at, expected: valueIn(expected, 'expected value') }),
    );
  }

  /** Delete `key` only if its current value equals `expected` (kivaloo CAD). */
  cad(key: Bytes, expected: Bytes): Promise<boolean> {
    return this.#write((): Op => ({ kind: 'cad', key: keyIn(key), expected: valueIn(expected, 'expected value') }));
  }

  /** Apply puts and deletes atomically: all of them or, on any error, none. */
  batch(ops: BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#checkNotClosing();
      const parsed = batchIn(this.#arena, ops);
      if (parsed.length === 0) return resolve();
      this.#tree.submit({ op: parsed, resolve: resolve as () => void, reject });
    });
  }

  #write(make: () => Op): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#checkNotClosing();
      const op = make();
      this.#tree.submit({ op, resolve: resolve as (r?: boolean) => void, reject });
    });
  }

  /** Pairs in key order (or reverse), read lazily from the current commit. */
  range(opts?: RangeOptions): IterableIterator<[Buffer, Buffer]> {
    this.#checkNotReleased();
    return iterate(this.#tree, this.#tree.committed, opts, pair);
  }

  /** Keys in key order (or reverse), read lazily from the current commit. */
  keys(opts?: RangeOptions): IterableIterator<Buffer> {
    this.#checkNotReleased();
    return iterate(this.#tree, this.#tree.committed, opts, keyOnly);
  }

  /** A consistent read-only view of the current commit; release() it when done. */
  snapshot(): Snapshot {
    this.#checkNotReleased();
    return snapshotOf(this.#tree, this.#tree.committed, () => this.#checkNotReleased());
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
