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
  /** For a peer: resolves if its package can be imported here, rejects
   * with EngineMissing if not. birch itself has none: it is always there. */
  probe?(): Promise<void>;
  /** Opens (creating if needed) a store in directory `dir`. Throws
   * EngineMissing when the store's package is not installed. */
  open(dir: string, opts: EngineOptions): Promise<Engine>;
}

/**
 * A peer package that cannot be imported. The peers are devDependencies of
 * birchdb: a clone of the repository has them after `npm install`, an
 * application that installed birchdb does not, and adds one with
 * `npm install <pkg>` in its own project if it wants the comparison.
 */
export class EngineMissing extends Error {
  constructor(readonly engine: string, readonly pkg: string, cause: unknown) {
    super(
      `${engine} is not installed (import('${pkg}') failed: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}); ` +
        `birchdb does not install the bench's peers: run \`npm install ${pkg}\` in your project to compare against it`,
    );
  }
}

/** Imports a peer's package, or throws EngineMissing naming it. */
export async function importPeer<T>(engine: string, pkg: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (err) {
    throw new EngineMissing(engine, pkg, err);
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
