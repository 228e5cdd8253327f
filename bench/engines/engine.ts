/**
 * The one interface every workload drives. A workload never knows which
 * store it is talking to; each file beside this one adapts one store to it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** How the bench asks an engine to open its store. */
export interface EngineOptions {
  /** false: data-loss mode, writes are not fsynced (--no-sync). */
  sync: boolean;
  /** --block-size: birch's block size. Peers keep their own page sizes. */
  blockSize?: number;
  /** --cache: birch's node cache and LevelDB's block cache, in bytes. LMDB
   * has no cache of its own (it reads through the OS page cache). */
  cacheSize?: number;
}

/** A key-value pair as range reads return it. */
export type Pair = [Buffer, Buffer];

export interface Engine {
  /** Reads one key. Synchronous where the store allows it. */
  get(key: Buffer): Buffer | undefined | Promise<Buffer | undefined>;
  /** Writes one pair; resolves once the write is durable (unless sync is off). */
  put(key: Buffer, value: Buffer): Promise<unknown>;
  /** All pairs from `gte` (or the first key) upward, in key order. */
  range(gte?: Buffer): Iterable<Pair> | AsyncIterable<Pair>;
  /** Bytes the store occupies on disk now. */
  bytesOnDisk(): number;
  /** Store-specific figures worth recording (birch: its stats()). */
  details?(): Record<string, number>;
  close(): Promise<void>;
}

/** What each file in bench/engines/ exports. */
export interface EngineModule {
  /** The name used by --engine. */
  readonly name: string;
  /** Opens (creating if needed) a store in directory `dir`. Throws
   * EngineMissing when the store's package is not installed. */
  open(dir: string, opts: EngineOptions): Promise<Engine>;
}

/** Thrown by open() when an optional peer package cannot be imported. */
export class EngineMissing extends Error {
  constructor(readonly engine: string, readonly pkg: string, cause: unknown) {
    super(`${engine} not installed, skipping (import('${pkg}') failed: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)})`);
  }
}

/**
 * Bytes allocated on disk for every file under `dir` (what `du` counts), so
 * that sparse or preallocated files count as what they really occupy.
 */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += diskUsage(path);
    else if (entry.isFile()) total += statSync(path).blocks * 512;
  }
  return total;
}
