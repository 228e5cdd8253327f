/**
 * Open options: defaults and validation, in one place. The rules of the
 * layers below are theirs (the block store's in validateBlockStoreOptions,
 * the tree's smallest block in MIN_TREE_BLOCK_SIZE); this file adds the
 * api's own and the defaults.
 *
 * @internal
 */
import * as os from 'node:os';
import { BirchError } from '../errors.js';
import { MIN_TREE_BLOCK_SIZE } from '../btree/index.js';
import { DEFAULT_SPACE_TARGET } from '../cleaner/index.js';
import { MAX_BLOCK_SIZE, validateBlockStoreOptions, type FileIO } from '../lbs/index.js';
import type { OpenOptions } from './types.js';

/**
 * The node cache's default bound: a quarter of the memory this process may
 * use (the machine's, or its cgroup's limit when that is lower), and at
 * least 64 MiB. The cache holds only what was read or written, so a small
 * store stays small; a store larger than its cache pays a read, a checksum
 * and a decode per miss (LMDB reads through the operating system's page
 * cache, which has no bound of its own), so the default lets a store of a
 * good part of the machine's memory stay in it.
 */
export function defaultCacheSize(): number {
  let memory = os.totalmem();
  const limit = process.constrainedMemory?.();
  if (limit !== undefined && limit > 0 && limit < memory) memory = limit;
  return Math.max(64 * 1024 * 1024, Math.floor(memory / 4));
}
export const DEFAULT_CLEANING = 1;

/** Options as the layers below take them; `io` is for tests only. */
export interface ResolvedOptions {
  blockSize: number | undefined;
  segmentSize: number | undefined;
  cacheSize: number;
  sync: boolean;
  cleaning: number;
  spaceTarget: number;
  strict: boolean;
  io: FileIO | undefined;
}

const KNOWN = new Set(['blockSize', 'segmentSize', 'cacheSize', 'sync', 'cleaning', 'spaceTarget', 'strict', 'io', 'keyEncoding', 'valueEncoding']);

const bad = (message: string): BirchError => new BirchError('BIRCH_BAD_ARGUMENT', message);

export function resolveOptions(opts: unknown): ResolvedOptions {
  if (opts === undefined) opts = {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw bad('options must be an object');
  for (const k of Object.keys(opts)) {
    if (!KNOWN.has(k)) throw bad(`unknown option '${k}'`);
  }
  const o = opts as OpenOptions & { io?: FileIO };
  // The tree's own bound first: the block store alone would take smaller blocks.
  if (o.blockSize !== undefined && !(Number.isInteger(o.blockSize) && o.blockSize >= MIN_TREE_BLOCK_SIZE && o.blockSize <= MAX_BLOCK_SIZE)) {
    throw bad(`option blockSize must be an integer from ${MIN_TREE_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}, got ${String(o.blockSize)}`);
  }
  try {
    validateBlockStoreOptions({ blockSize: o.blockSize, segmentSize: o.segmentSize, sync: o.sync });
  } catch (err) {
    throw err instanceof BirchError ? bad(`option ${err.message}`) : err;
  }
  let cacheSize = defaultCacheSize();
  if (o.cacheSize !== undefined) {
    if (typeof o.cacheSize !== 'number' || !Number.isSafeInteger(o.cacheSize) || o.cacheSize < 0) {
      throw bad(`option cacheSize must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${String(o.cacheSize)}`);
    }
    cacheSize = o.cacheSize;
  }
  let cleaning = DEFAULT_CLEANING;
  if (o.cleaning !== undefined) {
    if (typeof o.cleaning !== 'number' || !Number.isFinite(o.cleaning) || o.cleaning < 0) {
      throw bad(`option cleaning must be a finite number >= 0, got ${String(o.cleaning)}`);
    }
    cleaning = o.cleaning;
  }
  let spaceTarget = DEFAULT_SPACE_TARGET;
  if (o.spaceTarget !== undefined) {
    if (typeof o.spaceTarget !== 'number' || !(o.spaceTarget >= 1.1 && o.spaceTarget <= 100)) {
      throw bad(`option spaceTarget must be a number from 1.1 to 100, got ${String(o.spaceTarget)}`);
    }
    spaceTarget = o.spaceTarget;
  }
  if (o.strict !== undefined && typeof o.strict !== 'boolean') {
    throw bad(`option strict must be a boolean, got ${typeof o.strict}`);
  }
  const strict = o.strict ?? process.env['BIRCH_STRICT'] === '1';
  return { blockSize: o.blockSize, segmentSize: o.segmentSize, cacheSize, sync: o.sync ?? true, cleaning, spaceTarget, strict, io: o.io };
}
