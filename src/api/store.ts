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
import { Cleaner, Purger, type CleanerStats, type PurgerStats } from '../cleaner/index.js';
import { BlockStore } from '../lbs/index.js';
import { Access, codecsOf } from './access.js';
import type { Codec, KeyCodec, KeyEncoding, KeyEncodingFor, KeyInput, KeyOf, ValueEncoding, ValueEncodingFor, ValueInput, ValueOf } from './encoding/index.js';
import { inBatchOp, type Space } from './input.js';
import { Keyspace, type Owner } from './keyspace.js';
import { resolveOptions } from './options.js';
import { backupCommit, checkBackupDest } from './backup.js';
import { Snapshot } from './snapshot.js';
import { Table } from './table.js';
import { Tables } from './tables.js';
import type { BackupOptions, BackupResult, BatchOp, Bytes, CheckReport, EncodingOptions, OpenOptions, StoreStats, TableOptions } from './types.js';

/**
 * Open (creating if needed) the store in directory `path`. Synchronous.
 * `keyEncoding` and `valueEncoding` type and encode the store's own keys
 * and values (tables have their own).
 */
export function open<KE extends KeyEncoding = 'binary', VE extends ValueEncoding = 'binary'>(
  path: string,
  options?: OpenOptions & EncodingOptions<KE, VE>,
): Store<KeyInput<KE>, KeyOf<KE>, ValueInput<VE>, ValueOf<VE>>;
export function open<K, V>(
  path: string,
  options: OpenOptions & { keyEncoding: KeyEncodingFor<K>; valueEncoding: ValueEncodingFor<V> },
): Store<K, K, V, V>;
export function open(path: string, options?: OpenOptions & EncodingOptions): Store<unknown, unknown, unknown, unknown> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', 'open needs a directory path (a non-empty string)');
  }
  const o = resolveOptions(options);
  const codecs = codecsOf(
    options === undefined ? undefined : { keyEncoding: options.keyEncoding, valueEncoding: options.valueEncoding },
  );
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
    return new Store(lbs, tree, o.cleaning, o.spaceTarget, o.segmentSize, codecs);
  } catch (err) {
    lbs.closeSync(); // synchronously: a retried open() must not find the lock still held
    throw err;
  }
}

export type StoreStatsAll = StoreStats & CleanerStats & PurgerStats;

/** The tree behind each store, for the api's own helpers (dump.ts); not exported from the package. */
const trees = new WeakMap<object, Tree>();

/** @internal The tree behind `db` (api/dump.ts reads it without copying every pair). */
export function treeOf(db: object): Tree {
  const t = trees.get(db);
  if (t === undefined) throw new BirchError('BIRCH_BAD_ARGUMENT', 'not a store made by open()');
  return t;
}

const closedError = (): BirchError => new BirchError('BIRCH_CLOSED', 'store is closed');

/** The store's own keys: keyspace 0, no prefix (btree/entry.ts). */
const STORE_SPACE: Space = { keyspace: KS_STORE, prefix: new Uint8Array(0) };
const STORE_WRITE = Object.freeze({ space: STORE_SPACE, before: undefined });

type Codecs = { kc: KeyCodec<unknown, unknown>; vc: Codec<unknown, unknown> };

/**
 * The store. Its read and write API (get, put, delete, add, modify, cas,
 * cad, expire, persist, ttl, incr, append, batch, range, keys) is Access's,
 * over the store's own keys; tables have the same API over theirs.
 */
export class Store<KIn = Bytes, KOut = Buffer, VIn = Bytes, VOut = Buffer> extends Access<KIn, KOut, VIn, VOut> {
  readonly #lbs: BlockStore;
  readonly #tree: Tree;
  readonly #cleaner: Cleaner;
  readonly #purger: Purger;
  readonly #segmentSize: number | undefined;
  /** Backups running; close() waits for them to stop. */
  readonly #backups = new Set<Promise<unknown>>();
  readonly #owner: Owner;
  readonly #codecs: Codecs;
  /** The table catalog. */
  readonly #tables: Tables;
  /** The last handle made for each table name: the encodings a batch operation naming the table uses. */
  readonly #tableHandles = new Map<string, Table<unknown, unknown, unknown, unknown>>();
  #closing: Promise<void> | undefined;

  /** @internal Use open(). */
  constructor(lbs: BlockStore, tree: Tree, cleaning: number, spaceTarget: number, segmentSize?: number, codecs: Codecs = codecsOf(undefined)) {
    // The keyspace's checks reach the store through `self`, set once it exists.
    const self: { s?: Store<KIn, KOut, VIn, VOut> } = {};
    const owner: Owner = {
      tree,
      arena: new EntryArena(), // where queued writes keep their pairs (btree/arena.ts)
      checkReadable: () => self.s!.#checkNotReleased(),
      checkWritable: () => self.s!.#checkNotClosing(),
      closing: () => self.s!.#closing !== undefined,
    };
    const own = new Keyspace(owner, { read: () => STORE_SPACE, write: () => STORE_WRITE });
    super(own, codecs);
    self.s = this;
    this.#owner = owner;
    this.#codecs = codecs;
    this.#lbs = lbs;
    this.#tree = tree;
    this.#segmentSize = segmentSize;
    trees.set(this, tree);
    this.#tables = new Tables(tree);
    // The purge's hook first: the cleaner's pacer then counts the leaves it dirtied as the batch's own.
    this.#purger = new Purger(tree);
    this.#cleaner = new Cleaner(tree, { cleaning, spaceTarget });
    this.#cleaner.start();
    this.#purger.start();
  }

  /**
   * Apply puts and deletes atomically: all of them or, on any error, none.
   * An operation with a `table` field writes that table (see BatchOp), so
   * one batch can write several tables.
   */
  override batch(ops: Array<BatchOp<KIn, VIn>>): Promise<void> {
    try {
      if (!Array.isArray(ops)) throw new BirchError('BIRCH_BAD_ARGUMENT', `batch needs an array of operations, got ${ops === null ? 'null' : typeof ops}`);
      return this.ks.batch(
        ops.map((op, i) => {
          const t = typeof op === 'object' && op !== null ? (op as { table?: unknown }).table : undefined;
          if (t === undefined) return this.encodeOp(op, i);
          return this.#tableFor(t, i).encodeOp(op, i);
        }),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Table `name`: the store's read and write API over keys of its own,
   * isolated from every other table and from the store's keys. A table
   * exists once a key is written to it (tables() lists those that hold
   * keys); its id costs 1 byte of the 255-byte key limit for the first 127
   * tables, 2 up to 16,383. The encodings are not stored: give the same
   * each time.
   */
  table<KE extends KeyEncoding = 'binary', VE extends ValueEncoding = 'binary'>(
    name: string,
    options?: TableOptions<KE, VE>,
  ): Table<KeyInput<KE>, KeyOf<KE>, ValueInput<VE>, ValueOf<VE>>;
  table<K, V>(name: string, options: { keyEncoding: KeyEncodingFor<K>; valueEncoding: ValueEncodingFor<V> }): Table<K, K, V, V>;
  table(name: string, options?: TableOptions): Table<unknown, unknown, unknown, unknown> {
    this.#checkNotReleased();
    const codecs = codecsOf(options);
    const t = new Table<unknown, unknown, unknown, unknown>(name, new Keyspace(this.#owner, this.#tables.source(name)), codecs);
    this.#tableHandles.set(name, t);
    return t;
  }

  /** Names of the tables that hold at least one live key, in name order. */
  tables(): string[] {
    this.#checkNotReleased();
    return this.#tables.list(this.#tree.committed);
  }

  /**
   * Remove table `name` and every key in it, durably and atomically: once
   * this resolves (true if the table existed), no reader sees any of its
   * keys, and a later write to the name starts an empty table. The keys
   * themselves are deleted in the background (a crash resumes the work).
   */
  dropTable(name: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#checkNotClosing();
      const d = this.#tables.drop(name);
      if (d === undefined) return resolve(false);
      this.#tree.submit({
        op: d.ops,
        resolve: () => {
          d.done(true);
          resolve(true);
        },
        reject: (err: unknown) => {
          d.done(false);
          reject(err);
        },
      });
    });
  }

  /** A consistent read-only view of the current commit, every table included; release() it when done. */
  snapshot(): Snapshot<KIn, KOut, VOut> {
    this.#checkNotReleased();
    return new Snapshot<KIn, KOut, VOut>(this.ks, this.#codecs, this.#tables, this.#tree, () => this.#checkNotReleased());
  }

  /** The handle a batch operation's `table` names. */
  #tableFor(t: unknown, i: number): Table<unknown, unknown, unknown, unknown> {
    if (t instanceof Table) {
      if (!t.belongsTo(this.#owner)) throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i}: table '${t.name}' is a handle of another store`);
      return t as Table<unknown, unknown, unknown, unknown>;
    }
    if (typeof t === 'string') {
      const known = this.#tableHandles.get(t);
      if (known !== undefined) return known;
      return inBatchOp(i, () => this.table(t));
    }
    throw new BirchError('BIRCH_BAD_ARGUMENT', `batch operation ${i}: table must be a name or a table handle, got ${t === null ? 'null' : typeof t}`);
  }

  /** Figures about the store; see StoreStats. */
  stats(): StoreStatsAll {
    this.#checkNotReleased();
    const c = this.#tree.committed;
    const l = this.#lbs.stats();
    const t = this.#tree.stats();
    const lookups = t.cacheHits + t.cacheMisses;
    return {
      keys: c.keys - c.internal,
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
      ...this.#purger.stats(),
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

  /** Finish queued writes, stop the cleaner, the purge and any backup, and release the store. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      await Promise.all([...this.#backups]);
      await this.#purger.stop();
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
