/**
 * The public types of birch's API. The implementation is in store.ts.
 */

import type { KeyEncoding, ValueEncoding } from './encoding/index.js';

/** A key or value: bytes, or a string taken as UTF-8. 0 to 255 bytes. */
export type Bytes = Uint8Array | string;

export interface OpenOptions {
  /** Block size in bytes for a new store, 2048 to 65536 (the B+tree needs
   * room for three 255-byte pairs per page). For an existing store it must
   * match, or open fails with BIRCH_BLOCK_SIZE. Defaults to 4096 (new store)
   * or the store's own size. */
  blockSize?: number;
  /** Target size of one segment file in bytes. Defaults to 16 MiB. */
  segmentSize?: number;
  /** Memory bound of the node cache in bytes; clean nodes past it are evicted
   * least recently used first. Defaults to a quarter of the memory the
   * process may use (the machine's, or its cgroup limit), at least 64 MiB. */
  cacheSize?: number;
  /** false skips every fsync: DATA-LOSS MODE (kivaloo's -L), for benchmarks
   * and tests only; acknowledged writes can be lost on power failure or
   * kernel crash. Defaults to true. */
  sync?: boolean;
  /** Storage-to-I/O cost ratio that drives the background cleaner; 0 turns
   * cleaning off. See docs/DESIGN.md. Defaults to 1. */
  cleaning?: number;
  /** Bound on disk use, as a multiple of the live pages: when the log from
   * the oldest live leaf to its head grows past it, the cleaner keeps pace
   * with the writers whatever the `cleaning` rate (whole-segment freeing
   * adds up to one segment on top). Lower means less disk and more
   * rewriting. 1.1 to 100; defaults to 1.5. Ignored when cleaning is 0. */
  spaceTarget?: number;
  /** Strict mode, for tests and debugging (kivaloo's sanity checks, bbolt's
   * StrictMode): every batch's rebalanced tree is checked in memory before it
   * is written, and a broken invariant fails that batch with BIRCH_INTERNAL.
   * Costs CPU on every commit. Defaults to true when the environment variable
   * BIRCH_STRICT is "1", else false. */
  strict?: boolean;
}

/**
 * The encodings of the store's own keys and values (at open()) or of a
 * table's (Store.table()). Not stored: give the same each time.
 */
export interface TableOptions<KE = KeyEncoding, VE = ValueEncoding> {
  /** 'binary' (bytes, or a string as UTF-8; keys come back as Buffers),
   * 'utf8' (strings) or 'tuple' (FoundationDB's tuple layer: arrays of null,
   * booleans, strings, byte strings, integers, doubles and nested arrays,
   * in tuple order). Defaults to 'binary'. */
  keyEncoding?: KE;
  /** 'binary', 'utf8', 'json' or 'msgpack'. Defaults to 'binary'. */
  valueEncoding?: VE;
}

/** open()'s encodings: the same as a table's. */
export type EncodingOptions<KE = KeyEncoding, VE = ValueEncoding> = TableOptions<KE, VE>;

/** Bounds and direction of a range read. All bounds are optional and combine. */
export interface RangeOptions {
  gt?: Bytes;
  gte?: Bytes;
  lt?: Bytes;
  lte?: Bytes;
  /** Only keys that start with these bytes. */
  prefix?: Bytes;
  /** Descending key order. Defaults to false. */
  reverse?: boolean;
  /** At most this many pairs. Defaults to no limit. */
  limit?: number;
}

/** Options of a write that stores a value. */
export interface WriteOptions {
  /** Lifetime in milliseconds: the key disappears (to every read, at once) this long after the write is issued. Without it, the key does not expire (a put without ttl clears any lifetime the key had). */
  ttl?: number;
  /** Keep the lifetime the key has (if it has one and is live) instead of
   * clearing it, as Redis's SET KEEPTTL: decided inside the commit, so no
   * other write can come between the read of the lifetime and the write.
   * Excludes `ttl`. Defaults to false. */
  keepTtl?: boolean;
}

/**
 * One operation of Store.batch(). Without `table` it writes the store's own
 * keys (in the store's encodings); with `table` (a name, or a handle from
 * Store.table()) that table's keys, in the encodings of the handle (for a
 * name: of the last handle this store made for it, else 'binary').
 */
export type BatchOp<K = Bytes, V = Bytes> =
  | { type: 'put'; key: K; value: V; ttl?: number; table?: undefined }
  | { type: 'del'; key: K; table?: undefined }
  | { type: 'put'; table: string | { readonly name: string }; key: unknown; value: unknown; ttl?: number }
  | { type: 'del'; table: string | { readonly name: string }; key: unknown };

export interface StoreStats {
  /** Number of keys in the latest committed tree: the store's own and every
   * table's (not the store's bookkeeping: the expiry index, the table
   * catalog). Keys that expired count until the background purge deletes
   * them (within a few seconds, as Redis's DBSIZE counts them until evicted);
   * so do the keys of a dropped table. */
  keys: number;
  /** Levels in the tree (1 when the root is a leaf). */
  height: number;
  /** Pages in the latest committed tree. */
  pagesLive: number;
  /** Blocks held in segment files (live and dead). */
  pagesOnDisk: number;
  bytesOnDisk: number;
  blockSize: number;
  cacheBytes: number;
  cacheLimit: number;
  cacheNodes: number;
  cacheHits: number;
  cacheMisses: number;
  /** cacheHits / (cacheHits + cacheMisses), or 0 before any lookup. */
  cacheHitRate: number;
  /** Commits (block-store appends) since open. */
  commits: number;
  /** Requests (single operations or batches) committed since open. */
  requests: number;
  /** requests / commits. */
  averageBatch: number;
}

/** One problem check() found. */
export interface CheckProblem {
  /** What kind of problem: 'unreadable' (I/O error, checksum, malformed page),
   * 'root-flag', 'too-large', 'empty', 'order', 'bounds', 'structure',
   * 'freed', 'oldest-pointer' or 'trailer'. */
  kind: string;
  /** What is wrong, for people (without the location). */
  message: string;
  /** The block concerned, where there is one. */
  block?: number;
  /** The segment file holding the block, and the block's byte offset in it. */
  file?: string;
  offset?: number;
  /** For 'unreadable': the error's code (BIRCH_CORRUPT, BIRCH_IO). */
  code?: string;
}

export interface CheckReport {
  ok: boolean;
  /** Every problem found (the walk goes on past the first). */
  problems: CheckProblem[];
  keys: number;
  pages: number;
  height: number;
}

/** Options of Store.backup(). */
export interface BackupOptions {
  /** Called after every chunk of pages copied (about 1 MiB), and once at the
   * end. Defaults to none. */
  onProgress?: (p: BackupProgress) => void;
}

export interface BackupProgress {
  /** Pages copied so far. */
  pages: number;
  /** Pages of the commit being copied. */
  total: number;
  /** Bytes written so far (pages times the block size). */
  bytes: number;
}

/** What Store.backup() made. */
export interface BackupResult {
  /** The backup's directory (absolute). */
  dir: string;
  /** Sequence number of the commit copied (the backup's last commit). */
  seq: number;
  /** Pairs in it. */
  keys: number;
  /** Pages in it: the live pages of that commit, nothing else. */
  pages: number;
  /** Bytes of its blocks (pages times the block size); its segment files
   * are created at full size, so the last one may be larger, sparsely. */
  bytes: number;
  /** Time the copy took. */
  seconds: number;
}
