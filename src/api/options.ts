/**
 * Open options: defaults and validation, in one place.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import { DEFAULT_SPACE_TARGET } from '../cleaner/index.js';
import type { FileIO } from '../lbs/index.js';
import type { OpenOptions } from './types.js';

export const DEFAULT_CACHE_SIZE = 256 * 1024 * 1024;
export const DEFAULT_CLEANING = 1;
export const MIN_TREE_BLOCK_SIZE = 2048;

/** Options as the layers below take them; `io` is for tests only. */
export interface ResolvedOptions {
  blockSize: number | undefined;
  segmentSize: number | undefined;
  cacheSize: number;
  sync: boolean;
  cleaning: number;
  spaceTarget: number;
  io: FileIO | undefined;
}

const KNOWN = new Set(['blockSize', 'segmentSize', 'cacheSize', 'sync', 'cleaning', 'spaceTarget', 'io']);

export function resolveOptions(opts: unknown): ResolvedOptions {
  if (opts === undefined) opts = {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', 'options must be an object');
  }
  for (const k of Object.keys(opts)) {
    if (!KNOWN.has(k)) throw new BirchError('BIRCH_BAD_ARGUMENT', `unknown option '${k}'`);
  }
  const o = opts as OpenOptions & { io?: FileIO };
  const int = (name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `option ${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  const blockSize = int('blockSize', o.blockSize, MIN_TREE_BLOCK_SIZE, 65536);
  const segmentSize = int('segmentSize', o.segmentSize, 1);
  const cacheSize = int('cacheSize', o.cacheSize, 0) ?? DEFAULT_CACHE_SIZE;
  if (o.sync !== undefined && typeof o.sync !== 'boolean') {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `option sync must be a boolean, got ${typeof o.sync}`);
  }
  let cleaning = DEFAULT_CLEANING;
  if (o.cleaning !== undefined) {
    if (typeof o.cleaning !== 'number' || !Number.isFinite(o.cleaning) || o.cleaning < 0) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `option cleaning must be a finite number >= 0, got ${String(o.cleaning)}`);
    }
    cleaning = o.cleaning;
  }
  let spaceTarget = DEFAULT_SPACE_TARGET;
  if (o.spaceTarget !== undefined) {
    if (typeof o.spaceTarget !== 'number' || !(o.spaceTarget >= 1.1 && o.spaceTarget <= 100)) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `option spaceTarget must be a number from 1.1 to 100, got ${String(o.spaceTarget)}`);
    }
    spaceTarget = o.spaceTarget;
  }
  return { blockSize, segmentSize, cacheSize, sync: o.sync ?? true, cleaning, spaceTarget, io: o.io };
}
