/**
 * The log-structured block store: numbered fixed-size blocks in append-only
 * segment files (see format.ts for the bytes, recover.ts for opening).
 *
 * - `append(pages)` writes pages at the next block numbers as one atomic unit
 *   with ONE write() and ONE fdatasync (plus a directory fsync when it opened a
 *   new segment file), and resolves only once they are durable.
 * - `read(blockNo)` is synchronous and verifies the block's CRC.
 * - `free(below)` deletes whole segment files below a block number.
 *
 * An append never spans two segment files: if it does not fit in the current
 * one, a new file named after its first block is started, so the segment size
 * is a soft bound (an append larger than a whole segment gets a file of its
 * own). Block numbers only grow; a number is never given to two blocks that
 * were both acknowledged.
 *
 * After a failed write or fsync the store is "failed": it rejects every
 * further append until reopened, because the kernel may already have dropped
 * the dirty pages and a retried fsync could succeed without the data.
 *
 * @internal
 */
import * as path from 'node:path';
import { BirchError, corrupt, ioError } from '../errors.js';
import { nodeFileIO, type FileIO } from './fileio.js';
import {
  BLOCK_HEADER_SIZE,
  DEFAULT_BLOCK_SIZE,
  LOCK_FILE,
  MAX_BLOCK_SIZE,
  META_FILE,
  META_SIZE,
  META_TMP_FILE,
  MIN_BLOCK_SIZE,
  decodeBlock,
  decodeMeta,
  encodeBlock,
  encodeMeta,
  parseSegmentName,
  segmentName,
} from './format.js';
import { DirLock } from './lock.js';
import { recoverTail } from './recover.js';

export const DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024;

/**
 * Most descriptors kept open for reading older segments (the newest one,
 * which appends write to, is always open). A store of many segments would
 * otherwise hold one descriptor per segment ever read, and run into the
 * process's limit; past this many, the least recently used is closed.
 */
export const MAX_READ_FDS = 64;

export interface BlockStoreOptions {
  /** Block size in bytes for a new store, 512 to 65536. When given for an
   * existing store it must match the size the store was created with.
   * Defaults to 4096 for a new store and to the recorded size otherwise. */
  blockSize?: number;
  /** Target size of a segment file in bytes (a soft bound, rounded down to
   * whole blocks, at least one block). Defaults to 16 MiB. */
  segmentSize?: number;
  /** false skips every fsync: DATA-LOSS MODE, for benchmarks and tests only.
   * An acknowledged write may be lost on power failure or kernel crash.
   * Defaults to true. */
  sync?: boolean;
  /** File system access; tests substitute a fault-injecting one. Defaults to node:fs. */
  io?: FileIO;
}

interface Segment {
  first: number;
  /** Number of blocks written (committed) to it. */
  blocks: number;
  /** Open descriptor, or undefined until first needed. */
  fd: number | undefined;
}

export interface BlockStoreStats {
  blockSize: number;
  /** Lowest block number still on disk. */
  firstBlock: number;
  /** The number the next appended block will get. */
  nextBlock: number;
  segments: number;
  /** Blocks held in segment files. */
  blocksOnDisk: number;
  bytesOnDisk: number;
  appends: number;
  blocksAppended: number;
}

export class BlockStore {
  readonly dir: string;
  readonly blockSize: number;
  /** The largest page one block can hold. */
  readonly pageCapacity: number;
  readonly sync: boolean;
  private readonly io: FileIO;
  private readonly segmentBlocks: number;
  private readonly segments: Segment[];
  private lock: DirLock | undefined;
  private next: number;
  private inflight: Promise<unknown> | undefined;
  private failure: BirchError | undefined;
  private freeing: Promise<void> = Promise.resolve();
  private appends = 0;
  private scratch = Buffer.alloc(0);
  /** Older segments with an open descriptor, least recently used first. */
  private readonly readFds = new Set<Segment>();
  private blocksAppended = 0;

  private constructor(
    dir: string,
    blockSize: number,
    opts: Required<Pick<BlockStoreOptions, 'segmentSize' | 'sync' | 'io'>>,
    lock: DirLock,
    segments: Segment[],
    next: number,
  ) {
    this.dir = dir;
    this.blockSize = blockSize;
    this.pageCapacity = blockSize - BLOCK_HEADER_SIZE;
    this.sync = opts.sync;
    this.io = opts.io;
    this.segmentBlocks = Math.max(1, Math.floor(opts.segmentSize / blockSize));
    this.lock = lock;
    this.segments = segments;
    this.next = next;
  }

  /** Open the store in `dir`, creating it (and the directory) if absent. */
  static open(dir: string, options: BlockStoreOptions = {}): BlockStore {
    const io = options.io ?? nodeFileIO;
    const sync = options.sync ?? true;
    const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    validateOptions(options, segmentSize);
    dir = path.resolve(dir);

    let st: { isDirectory: boolean } | undefined;
    try {
      st = io.statSync(dir);
    } catch (err) {
      throw ioError('stat', dir, err);
    }
    if (st !== undefined && !st.isDirectory) {
      throw new BirchError('BIRCH_NOT_A_STORE', `${dir} is a file, not a store directory`, { file: dir });
    }
    if (st === undefined) {
      try {
        // The new directories' entries in their parents must be durable too.
        const created: string[] = [];
        for (let d = dir; io.statSync(d) === undefined; d = path.dirname(d)) created.push(d);
        io.mkdirSync(dir);
        if (sync) for (const d of created.reverse()) io.fsyncDirSync(path.dirname(d));
      } catch (err) {
        throw ioError('creating the directory', dir, err);
      }
    }
    let names: string[];
    try {
      names = io.readdirSync(dir);
    } catch (err) {
      throw ioError('listing', dir, err);
    }
    const hasMeta = names.includes(META_FILE);
    if (!hasMeta) {
      // A new store may only be made in an empty directory (or one left by a
      // creation that crashed before the meta file was renamed into place).
      const foreign = names.filter((n) => n !== LOCK_FILE && n !== META_TMP_FILE);
      if (foreign.length > 0) {
        throw new BirchError(
          'BIRCH_NOT_A_STORE',
          `${dir} is not empty and holds no birch store (found ${foreign.slice(0, 3).join(', ')})`,
          { file: dir },
        );
      }
    }

    // An existing meta file is checked before the lock is taken (taking it
    // creates birch.lock), so that a directory whose birch.meta is not ours is
    // left exactly as it was. The meta file is written once, by rename, so
    // reading it unlocked is safe.
    // (The block size is compared under the lock: a store in use is BIRCH_LOCKED.)
    const existingBlockSize = hasMeta ? readMeta(io, dir) : undefined;
    const lock = DirLock.acquire(dir);
    let lastFd: number | undefined;
    try {
      const blockSize =
        existingBlockSize !== undefined
          ? checkBlockSize(dir, existingBlockSize, options.blockSize)
          : createMeta(io, dir, options.blockSize, sync);
      const segments = names
        .map((n) => parseSegmentName(n))
        .filter((n): n is number => n !== undefined)
        .sort((a, b) => a - b)
        .map((first): Segment => ({ first, blocks: 0, fd: undefined }));
      let next = 0;
      const last = segments[segments.length - 1];
      if (last !== undefined) {
        for (let i = 0; i + 1 < segments.length; i++) {
          const s = segments[i]!;
          s.blocks = segments[i + 1]!.first - s.first;
        }
        last.fd = lastFd = openFile(io, path.join(dir, segmentName(last.first)), 'r+');
        const file = path.join(dir, segmentName(last.first));
        let tail: ReturnType<typeof recoverTail>;
        try {
          tail = recoverTail(io, last.fd, file, last.first, blockSize);
        } catch (err) {
          throw err instanceof BirchError ? err : ioError('recovering', file, err);
        }
        try {
          if (tail.truncated) io.ftruncateSync(last.fd, tail.blocks * blockSize);
          // After a process crash the tail recovery accepted (and the segment
          // files' directory entries) may still be only in the page cache:
          // make them durable before anything is served or appended on top.
          if (sync) {
            io.fsyncSync(last.fd);
            io.fsyncDirSync(dir);
          }
        } catch (err) {
          throw ioError(tail.truncated ? 'truncating a torn append' : 'syncing the last segment', file, err);
        }
        last.blocks = tail.blocks;
        next = last.first + tail.blocks;
      }
      return new BlockStore(dir, blockSize, { segmentSize, sync, io }, lock, segments, next);
    } catch (err) {
      if (lastFd !== undefined) io.closeSync(lastFd);
      lock.release();
      throw err;
    }
  }

  /** The number the next appended block will get; blocks below it are readable. */
  get nextBlock(): number {
    return this.next;
  }

  /** The lowest block number still on disk (equal to nextBlock when empty). */
  get firstBlock(): number {
    return this.segments[0]?.first ?? this.next;
  }

  /**
   * First block of the segment file holding `block`: what stays on disk, at
   * least, while `block` must. nextBlock when nothing at or below it is held
   * (an empty store, or a block beyond the last one written).
   */
  segmentStart(block: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    if (hi < 0 || block < segs[0]!.first) return hi < 0 ? this.next : segs[0]!.first;
    if (block >= this.next) return this.next;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.first <= block) lo = mid;
      else hi = mid - 1;
    }
    return segs[lo]!.first;
  }

  /** Whether a write or fsync has failed; appends are refused until reopen. */
  get failed(): BirchError | undefined {
    return this.failure;
  }

  /**
   * Append `pages` (each at most `pageCapacity` bytes) at blocks
   * nextBlock, nextBlock+1, ...; resolves with the first block's number once
   * they are durable. One append at a time.
   */
  async append(pages: readonly Uint8Array[]): Promise<number> {
    this.checkOpen();
    if (this.failure !== undefined) {
      throw new BirchError('BIRCH_IO', `store is failed after an earlier I/O error; reopen it (${this.failure.message})`, {
        cause: this.failure,
        file: this.failure.file,
      });
    }
    if (this.inflight !== undefined) throw new BirchError('BIRCH_BAD_ARGUMENT', 'an append is already in flight');
    if (pages.length === 0) throw new BirchError('BIRCH_BAD_ARGUMENT', 'append needs at least one page');
    for (const p of pages) {
      if (p.length > this.pageCapacity) {
        throw new BirchError('BIRCH_BAD_ARGUMENT', `page of ${p.length} bytes exceeds ${this.pageCapacity}`);
      }
    }
    const run = this.appendNow(pages);
    this.inflight = run;
    try {
      return await run;
    } finally {
      this.inflight = undefined;
    }
  }

  private async appendNow(pages: readonly Uint8Array[]): Promise<number> {
    const first = this.next;
    const n = pages.length;
    const bs = this.blockSize;
    let file = this.dir;
    let seg = this.segments[this.segments.length - 1];
    try {
      // One append is in flight at a time, so one scratch buffer serves them
      // all; encodeBlock zeroes each slot's padding itself.
      if (this.scratch.length < n * bs) this.scratch = Buffer.allocUnsafe(Math.max(n * bs, 2 * this.scratch.length));
      const buf = this.scratch.subarray(0, n * bs);
      for (let i = 0; i < n; i++) {
        encodeBlock(buf, i * bs, bs, { blockNo: first + i, appendFirst: first, appendCount: n, length: pages[i]!.length }, pages[i]!);
      }
      let created = false;
      if (seg === undefined || (seg.blocks > 0 && seg.blocks + n > this.segmentBlocks)) {
        file = path.join(this.dir, segmentName(first));
        const fd = this.io.openSync(file, 'wx+');
        const prev = seg;
        seg = { first, blocks: 0, fd };
        this.segments.push(seg);
        created = true;
        // The old head is an older segment now: its descriptor joins the readers'.
        if (prev?.fd !== undefined) this.trackReadFd(prev);
      }
      file = path.join(this.dir, segmentName(seg.first));
      const fd = seg.fd ?? (seg.fd = this.io.openSync(file, 'r+'));
      await this.io.write(fd, buf, 0, buf.length, seg.blocks * bs);
      if (this.sync) {
        await this.io.fdatasync(fd);
        if (created) await this.io.fsyncDir(this.dir);
      }
      seg.blocks += n;
      this.next = first + n;
      this.appends++;
      this.blocksAppended += n;
      return first;
    } catch (err) {
      this.failure = ioError('append', file, err);
      // Best effort: cut what this append may have written, so that a reopen
      // does not find (and adopt) an append that was reported as failed.
      try {
        if (seg?.fd !== undefined) this.io.ftruncateSync(seg.fd, seg.blocks * bs);
      } catch {
        // the store is failed anyway; recovery copes with whatever is left
      }
      throw this.failure;
    }
  }

  /** Read block `blockNo`'s payload, verified against its CRC. */
  read(blockNo: number): Buffer {
    this.checkOpen();
    if (!Number.isInteger(blockNo) || blockNo < this.firstBlock || blockNo >= this.next) {
      throw new BirchError('BIRCH_CORRUPT', `block ${blockNo} is not in the store [${this.firstBlock}, ${this.next})`);
    }
    const seg = this.segmentOf(blockNo);
    const file = path.join(this.dir, segmentName(seg.first));
    const offset = (blockNo - seg.first) * this.blockSize;
    const buf = Buffer.allocUnsafe(this.blockSize);
    let n: number;
    try {
      n = this.io.readSync(this.readFd(seg, file), buf, 0, this.blockSize, offset);
    } catch (err) {
      throw ioError(`reading block ${blockNo}`, file, err);
    }
    if (n !== this.blockSize) throw corrupt(`block ${blockNo} is cut short`, file, offset);
    const h = decodeBlock(buf, 0, this.blockSize);
    if (h === undefined) throw corrupt(`block ${blockNo} fails its checksum`, file, offset);
    if (h.blockNo !== blockNo) throw corrupt(`slot of block ${blockNo} holds block ${h.blockNo}`, file, offset);
    return buf.subarray(BLOCK_HEADER_SIZE, BLOCK_HEADER_SIZE + h.length);
  }

  /** The descriptor to read `seg` with, opening it (and closing the least recently used) if needed. */
  private readFd(seg: Segment, file: string): number {
    if (seg === this.segments[this.segments.length - 1]) return seg.fd ?? (seg.fd = this.io.openSync(file, 'r+'));
    if (seg.fd !== undefined) {
      this.readFds.delete(seg);
      this.readFds.add(seg);
      return seg.fd;
    }
    const fd = this.io.openSync(file, 'r');
    seg.fd = fd;
    this.trackReadFd(seg);
    return fd;
  }

  /** Count `seg`'s descriptor among the readers', closing the oldest past MAX_READ_FDS. */
  private trackReadFd(seg: Segment): void {
    this.readFds.add(seg);
    if (this.readFds.size <= MAX_READ_FDS) return;
    const victim = this.readFds.values().next().value as Segment;
    this.readFds.delete(victim);
    if (victim.fd !== undefined) this.io.closeSync(victim.fd);
    victim.fd = undefined;
  }

  /**
   * Advisory: blocks below `below` are no longer needed. Deletes every
   * segment file that lies entirely below it (never the newest segment), then
   * fsyncs the directory. Resolves with the number of files deleted.
   */
  free(below: number): Promise<number> {
    const run = this.freeing.then(() => this.freeNow(below));
    this.freeing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async freeNow(below: number): Promise<number> {
    if (this.lock === undefined) return 0;
    const doomed: Segment[] = [];
    while (this.segments.length > 1 && this.segments[1]!.first <= below) {
      doomed.push(this.segments.shift()!);
    }
    if (doomed.length === 0) return 0;
    for (const seg of doomed) {
      const file = path.join(this.dir, segmentName(seg.first));
      this.readFds.delete(seg);
      if (seg.fd !== undefined) this.io.closeSync(seg.fd);
      seg.fd = undefined;
      try {
        await this.io.unlink(file);
      } catch (err) {
        throw ioError('deleting a freed segment', file, err);
      }
    }
    if (this.sync) {
      try {
        await this.io.fsyncDir(this.dir);
      } catch (err) {
        throw ioError('syncing the directory after free', this.dir, err);
      }
    }
    return doomed.length;
  }

  stats(): BlockStoreStats {
    const blocksOnDisk = this.next - this.firstBlock;
    return {
      blockSize: this.blockSize,
      firstBlock: this.firstBlock,
      nextBlock: this.next,
      segments: this.segments.length,
      blocksOnDisk,
      bytesOnDisk: blocksOnDisk * this.blockSize + META_SIZE,
      appends: this.appends,
      blocksAppended: this.blocksAppended,
    };
  }

  /** Close every file and release the lock. Waits for a running append or free(). */
  async close(): Promise<void> {
    if (this.lock === undefined) return;
    await this.inflight?.catch(() => undefined);
    await this.freeing;
    this.closeSync();
  }

  /**
   * Close every file and release the lock NOW. Only when no append or free()
   * is running: close() calls it once they are done, and the layer above when
   * its own part of open() fails (so the lock is gone when open() throws).
   */
  closeSync(): void {
    if (this.lock === undefined) return;
    this.readFds.clear();
    for (const seg of this.segments) {
      if (seg.fd !== undefined) this.io.closeSync(seg.fd);
      seg.fd = undefined;
    }
    this.lock.release();
    this.lock = undefined;
  }

  get closed(): boolean {
    return this.lock === undefined;
  }

  private checkOpen(): void {
    if (this.lock === undefined) throw new BirchError('BIRCH_CLOSED', 'block store is closed');
  }

  private segmentOf(blockNo: number): Segment {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.first <= blockNo) lo = mid;
      else hi = mid - 1;
    }
    return segs[lo]!;
  }
}

function validateOptions(o: BlockStoreOptions, segmentSize: number): void {
  if (o.blockSize !== undefined) {
    if (!Number.isInteger(o.blockSize) || o.blockSize < MIN_BLOCK_SIZE || o.blockSize > MAX_BLOCK_SIZE) {
      throw new BirchError(
        'BIRCH_BAD_ARGUMENT',
        `blockSize must be an integer from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}, got ${String(o.blockSize)}`,
      );
    }
  }
  if (!Number.isInteger(segmentSize) || segmentSize < 1) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `segmentSize must be a positive integer, got ${String(segmentSize)}`);
  }
  if (o.sync !== undefined && typeof o.sync !== 'boolean') {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `sync must be a boolean, got ${typeof o.sync}`);
  }
}

function openFile(io: FileIO, file: string, flags: string): number {
  try {
    return io.openSync(file, flags);
  } catch (err) {
    throw ioError('opening', file, err);
  }
}

/** The block size recorded in the meta file (NOT_A_STORE if it is not birch's, CORRUPT if damaged). */
function readMeta(io: FileIO, dir: string): number {
  const file = path.join(dir, META_FILE);
  const fd = openFile(io, file, 'r');
  const buf = Buffer.alloc(META_SIZE + 1);
  let n: number;
  try {
    n = io.readSync(fd, buf, 0, buf.length, 0);
  } catch (err) {
    throw ioError('reading', file, err);
  } finally {
    io.closeSync(fd);
  }
  const meta = decodeMeta(buf.subarray(0, n));
  if (!meta.ok) {
    if (meta.reason === 'foreign') {
      throw new BirchError('BIRCH_NOT_A_STORE', `${dir} holds a ${META_FILE} that is not birch's`, { file });
    }
    throw corrupt(meta.message, file, 0);
  }
  return meta.blockSize;
}

/** The store's block size, if it is the one `wanted` (when given). */
function checkBlockSize(dir: string, blockSize: number, wanted: number | undefined): number {
  if (wanted !== undefined && wanted !== blockSize) {
    throw new BirchError('BIRCH_BLOCK_SIZE', `store ${dir} was created with block size ${blockSize}, not ${wanted}`, {
      file: path.join(dir, META_FILE),
    });
  }
  return blockSize;
}

/** Write the meta file atomically: temp file, fsync, rename, fsync the directory. */
function createMeta(io: FileIO, dir: string, wanted: number | undefined, sync: boolean): number {
  const blockSize = wanted ?? DEFAULT_BLOCK_SIZE;
  const tmp = path.join(dir, META_TMP_FILE);
  try {
    const fd = io.openSync(tmp, 'w');
    try {
      const meta = encodeMeta(blockSize);
      io.writeSync(fd, meta, 0, meta.length, 0);
      if (sync) io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    io.renameSync(tmp, path.join(dir, META_FILE));
    if (sync) {
      io.fsyncDirSync(dir);
      io.fsyncDirSync(path.dirname(dir)); // the directory may be new (or left by a crashed creation)
    }
  } catch (err) {
    throw ioError('creating the store', dir, err);
  }
  return blockSize;
}
