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
 * A segment file is created at its full size (sparse: ftruncate), and listed
 * in the segment record (record.ts) before its first append is acknowledged;
 * free() records what it frees before it unlinks anything. So open() can
 * tell a lost or shortened newest file from a crash (open.ts).
 *
 * After a failed write or fsync the store is "failed": it rejects every
 * further append until reopened, because the kernel may already have dropped
 * the dirty pages and a retried fsync could succeed without the data.
 *
 * @internal
 */
import * as path from 'node:path';
import { BirchError, corrupt, invariant, ioError } from '../errors.js';
import { nodeFileIO, type FileIO } from './fileio.js';
import {
  BLOCK_HEADER_SIZE,
  MAX_BLOCK_SIZE,
  META_SIZE,
  MIN_BLOCK_SIZE,
  RECORD_CREATED,
  RECORD_FREED,
  decodeBlock,
  encodeBlock,
} from './format.js';
import type { DirLock } from './lock.js';
import { openDir, publishMeta, type OpenedDir } from './open.js';
import type { SegmentRecord } from './record.js';
import { segmentIndex, segmentName, type Segment } from './segments.js';

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
  /** Create a new store whose meta file is only put in place by publish()
   * (until then the directory is not a store). For backups. Defaults to false. */
  unpublished?: boolean;
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
  private readonly record: SegmentRecord;
  /** Files below the record's freed mark still to unlink. */
  private readonly doomed: number[];
  private lock: DirLock | undefined;
  private next: number;
  private inflight: Promise<unknown> | undefined;
  private failure: BirchError | undefined;
  private freeing: Promise<void> = Promise.resolve();
  private appends = 0;
  private scratch = Buffer.alloc(0);
  /** readView()'s buffer, one block long. */
  private readonly readScratch: Buffer;
  /** Older segments with an open descriptor, least recently used first. */
  private readonly readFds = new Set<Segment>();
  private blocksAppended = 0;
  private unpublished: boolean;

  private constructor(opened: OpenedDir, opts: Required<Pick<BlockStoreOptions, 'segmentSize' | 'sync' | 'io'>>) {
    this.dir = opened.dir;
    this.blockSize = opened.blockSize;
    this.pageCapacity = opened.blockSize - BLOCK_HEADER_SIZE;
    this.sync = opts.sync;
    this.io = opts.io;
    this.segmentBlocks = Math.max(1, Math.floor(opts.segmentSize / opened.blockSize));
    this.lock = opened.lock;
    this.segments = opened.segments;
    this.next = opened.next;
    this.record = opened.record;
    this.doomed = opened.doomed;
    this.unpublished = opened.unpublished;
    this.readScratch = Buffer.allocUnsafeSlow(opened.blockSize);
    this.failure = opened.failure;
    // Leftovers of a free() that a power loss partly undid: never part of the log; deleted now.
    if (this.doomed.length > 0) this.freeing = this.freeNow(-1).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Open the store in `dir`, creating it (and the directory) if absent (see open.ts). */
  static open(dir: string, options: BlockStoreOptions = {}): BlockStore {
    validateBlockStoreOptions(options);
    const io = options.io ?? nodeFileIO;
    const sync = options.sync ?? true;
    const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    return new BlockStore(openDir(io, dir, options.blockSize, sync, options.unpublished === true), { segmentSize, sync, io });
  }

  /**
   * For a store opened with `unpublished`: wait for the append in flight,
   * then put the meta file in place, durably. From then on the directory is
   * a store that open() accepts.
   */
  async publish(): Promise<void> {
    this.checkOpen();
    await this.inflight?.catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
    if (!this.unpublished) return;
    try {
      publishMeta(this.io, this.dir, this.sync);
    } catch (err) {
      throw ioError('publishing the meta file', this.dir, err);
    }
    this.unpublished = false;
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
    if (block >= this.next) return this.next;
    const i = segmentIndex(this.segments, block);
    return i < 0 ? (this.segments[0]?.first ?? this.next) : this.segments[i]!.first;
  }

  /** Whether a write or fsync has failed; appends are refused until reopen. */
  get failed(): BirchError | undefined {
    return this.failure;
  }

  /**
   * Append `pages` (each at most `pageCapacity` bytes) at blocks
   * nextBlock, nextBlock+1, ...; resolves with the first block's number once
   * they are durable. One append at a time. `between`, if given, is awaited
   * every 64 blocks while they are encoded (the caller's chance to yield
   * the event loop: checksumming thousands of blocks takes a while).
   */
  async append(pages: readonly Uint8Array[], between?: () => Promise<void>): Promise<number> {
    this.checkOpen();
    if (this.failure !== undefined) {
      throw new BirchError('BIRCH_IO', `store is failed after an earlier I/O error; reopen it (${this.failure.message})`, {
        cause: this.failure,
        file: this.failure.file,
      });
    }
    invariant(this.inflight === undefined, 'an append is already in flight');
    invariant(pages.length > 0, 'append needs at least one page');
    for (const p of pages) invariant(p.length <= this.pageCapacity, `page of ${p.length} bytes exceeds ${this.pageCapacity}`);
    const run = this.appendNow(pages, between);
    this.inflight = run;
    try {
      return await run;
    } finally {
      this.inflight = undefined;
    }
  }

  private async appendNow(pages: readonly Uint8Array[], between: (() => Promise<void>) | undefined): Promise<number> {
    const first = this.next;
    const n = pages.length;
    const bs = this.blockSize;
    let file = this.dir;
    let seg = this.segments[this.segments.length - 1];
    let written = false;
    try {
      // One append is in flight at a time, so one scratch buffer serves them
      // all; encodeBlock zeroes each slot's padding itself.
      if (this.scratch.length < n * bs) this.scratch = Buffer.allocUnsafe(Math.max(n * bs, 2 * this.scratch.length));
      const buf = this.scratch.subarray(0, n * bs);
      for (let i = 0; i < n; i++) {
        encodeBlock(buf, i * bs, bs, { blockNo: first + i, appendFirst: first, appendCount: n, length: pages[i]!.length }, pages[i]!);
        if (between !== undefined && (i & 63) === 63) await between();
      }
      let created = false;
      let grown = false;
      if (seg === undefined || seg.blocks + n > seg.slots) {
        const slots = Math.max(this.segmentBlocks, n);
        if (seg !== undefined && seg.blocks === 0) {
          // The last segment is empty (its only append was torn) but too
          // small for this append: it grows, and is recorded again.
          file = path.join(this.dir, segmentName(seg.first));
          const fd = seg.fd ?? (seg.fd = this.io.openSync(file, 'r+'));
          this.io.ftruncateSync(fd, slots * bs);
          seg.slots = slots;
          grown = true;
        } else {
          file = path.join(this.dir, segmentName(first));
          const fd = this.io.openSync(file, 'wx+');
          const prev = seg;
          seg = { first, blocks: 0, slots, fd };
          this.segments.push(seg);
          created = true;
          // The old head is an older segment now: its descriptor joins the readers'.
          if (prev?.fd !== undefined) this.trackReadFd(prev);
          // Full size at once (sparse): a file found shorter later lost its end.
          this.io.ftruncateSync(fd, slots * bs);
        }
      }
      file = path.join(this.dir, segmentName(seg.first));
      const fd = seg.fd ?? (seg.fd = this.io.openSync(file, 'r+'));
      await this.io.write(fd, buf, 0, buf.length, seg.blocks * bs);
      written = true;
      if (this.sync) {
        await this.io.fdatasync(fd); // the data and, for a new file, its size
        if (created) await this.io.fsyncDir(this.dir);
      }
      // The new file goes into the record once it is durable, before its first append is acknowledged.
      if (created || grown) await this.record.append({ kind: RECORD_CREATED, first: seg.first, slots: seg.slots });
      seg.blocks += n;
      this.next = first + n;
      this.appends++;
      this.blocksAppended += n;
      return first;
    } catch (err) {
      this.failure = err instanceof BirchError ? err : ioError('append', file, err);
      // Best effort: spoil the CRC of the append's first block (the file
      // keeps its size), so that a reopen does not find (and adopt) an append
      // that was reported as failed; recovery then clears the rest of it as
      // a torn append. If this fails too, or a power loss keeps the append
      // and loses this write, a reopen may adopt it: a rejected write is "not
      // known to be durable", not "known absent".
      try {
        if (written && seg?.fd !== undefined) this.io.writeSync(seg.fd, Buffer.alloc(4), 0, 4, seg.blocks * bs);
      } catch {
        // the store is failed anyway; recovery copes with whatever is left
      }
      throw this.failure;
    }
  }

  /** Read block `blockNo`'s payload, verified against its CRC, into a buffer of its own. */
  read(blockNo: number): Buffer {
    const buf = Buffer.allocUnsafe(this.blockSize);
    return buf.subarray(BLOCK_HEADER_SIZE, BLOCK_HEADER_SIZE + this.readSlot(blockNo, buf));
  }

  /**
   * Read block `blockNo`'s payload, verified, into a buffer the store reuses:
   * the view is valid only until the next readView(). For callers that copy
   * what they keep (the node cache decodes it into a node of its own), so a
   * read allocates nothing.
   */
  readView(blockNo: number): Buffer {
    const buf = this.readScratch;
    return buf.subarray(BLOCK_HEADER_SIZE, BLOCK_HEADER_SIZE + this.readSlot(blockNo, buf));
  }

  /** Read and verify the slot of `blockNo` into `buf`; returns its payload length. */
  private readSlot(blockNo: number, buf: Buffer): number {
    this.checkOpen();
    if (!Number.isInteger(blockNo) || blockNo < this.firstBlock || blockNo >= this.next) {
      throw new BirchError('BIRCH_CORRUPT', `block ${blockNo} is not in the store [${this.firstBlock}, ${this.next})`);
    }
    const seg = this.segments[segmentIndex(this.segments, blockNo)]!;
    const offset = (blockNo - seg.first) * this.blockSize;
    let n: number;
    try {
      n = this.io.readSync(this.readFd(seg), buf, 0, this.blockSize, offset);
    } catch (err) {
      throw ioError(`reading block ${blockNo}`, this.fileOf(seg), err);
    }
    if (n !== this.blockSize) throw corrupt(`block ${blockNo} is cut short`, this.fileOf(seg), offset);
    const h = decodeBlock(buf, 0, this.blockSize);
    if (h === undefined) throw corrupt(`block ${blockNo} fails its checksum`, this.fileOf(seg), offset);
    if (h.blockNo !== blockNo) throw corrupt(`slot of block ${blockNo} holds block ${h.blockNo}`, this.fileOf(seg), offset);
    return h.length;
  }

  private fileOf(seg: Segment): string {
    return path.join(this.dir, segmentName(seg.first));
  }

  /** The segment file holding block `blockNo`, and the block's byte offset in it; undefined if not on disk. */
  locate(blockNo: number): { file: string; offset: number } | undefined {
    if (blockNo < this.firstBlock || blockNo >= this.next) return undefined;
    const seg = this.segments[segmentIndex(this.segments, blockNo)]!;
    return { file: path.join(this.dir, segmentName(seg.first)), offset: (blockNo - seg.first) * this.blockSize };
  }

  /** The descriptor to read `seg` with, opening it (and closing the least recently used) if needed. */
  private readFd(seg: Segment): number {
    const newest = seg === this.segments[this.segments.length - 1];
    if (seg.fd !== undefined) {
      if (!newest) {
        this.readFds.delete(seg);
        this.readFds.add(seg);
      }
      return seg.fd;
    }
    const fd = this.io.openSync(this.fileOf(seg), newest ? 'r+' : 'r');
    seg.fd = fd;
    if (!newest) this.trackReadFd(seg);
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
    // First the record says what goes (so that files a power loss brings
    // back are known to be leftovers), then the files go. A segment leaves
    // the list only once its file is gone: a failed unlink leaves it (and
    // every later one) listed and counted, and the next free() tries it
    // again. The directory is synced for what did go.
    let freed = 0;
    let unlinked = 0;
    let failure: BirchError | undefined;
    while (this.lock !== undefined && this.doomed.length > 0) {
      const file = path.join(this.dir, segmentName(this.doomed[0]!));
      try {
        await this.io.unlink(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          failure = ioError('deleting a segment file freed before', file, err);
          break;
        }
      }
      this.doomed.shift();
      unlinked++;
    }
    // segments[keep] is the first file kept: every one before it lies below
    // `below`. It must be one the record holds (not a file whose first
    // append, and so its entry, is still in flight).
    let keep = 0;
    while (keep + 1 < this.segments.length && this.segments[keep + 1]!.first <= below) keep++;
    while (keep > 0 && !this.record.view.live.has(this.segments[keep]!.first)) keep--;
    if (this.lock !== undefined && keep > 0 && this.segments[keep]!.first > this.record.view.freedBelow) {
      try {
        await this.record.append({ kind: RECORD_FREED, first: this.segments[keep]!.first, slots: 0 });
      } catch (err) {
        // The record is in doubt: no more appends (they may need it) until reopened.
        this.failure ??= err as BirchError;
        throw err;
      }
    }
    for (let i = 0; i < keep && this.lock !== undefined; i++) {
      const seg = this.segments[0]!;
      const file = path.join(this.dir, segmentName(seg.first));
      this.readFds.delete(seg);
      if (seg.fd !== undefined) this.io.closeSync(seg.fd);
      seg.fd = undefined;
      try {
        await this.io.unlink(file);
      } catch (err) {
        failure = ioError('deleting a freed segment', file, err);
        break;
      }
      this.segments.shift();
      freed++;
      unlinked++;
    }
    if (unlinked > 0 && this.sync && this.lock !== undefined) {
      try {
        await this.io.fsyncDir(this.dir);
      } catch (err) {
        failure ??= ioError('syncing the directory after free', this.dir, err);
      }
    }
    if (failure !== undefined) throw failure;
    return freed;
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
    await this.record.close();
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
    this.record.closeSync();
    this.lock.release();
    this.lock = undefined;
  }

  get closed(): boolean {
    return this.lock === undefined;
  }

  private checkOpen(): void {
    if (this.lock === undefined) throw new BirchError('BIRCH_CLOSED', 'block store is closed');
  }
}

/** The rules for BlockStore options (BIRCH_BAD_ARGUMENT), checked before anything is touched. */
export function validateBlockStoreOptions(o: BlockStoreOptions): void {
  if (o.blockSize !== undefined) {
    if (!Number.isInteger(o.blockSize) || o.blockSize < MIN_BLOCK_SIZE || o.blockSize > MAX_BLOCK_SIZE) {
      throw new BirchError(
        'BIRCH_BAD_ARGUMENT',
        `blockSize must be an integer from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}, got ${String(o.blockSize)}`,
      );
    }
  }
  if (o.segmentSize !== undefined && (!Number.isInteger(o.segmentSize) || o.segmentSize < 1)) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `segmentSize must be a positive integer, got ${String(o.segmentSize)}`);
  }
  if (o.sync !== undefined && typeof o.sync !== 'boolean') {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `sync must be a boolean, got ${typeof o.sync}`);
  }
}
