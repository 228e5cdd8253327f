/**
 * Opening a block store's directory (kivaloo keeps the same job apart, in
 * storage_findfiles.c): make the directory if it is missing, refuse one that
 * holds something else, check or create the meta file, take the lock, read
 * the segment record, match it against the segment files, and recover the
 * last one's tail. The order matters: an existing meta file is checked
 * before the lock is taken (taking it creates birch.lock), so a directory
 * that is not a birch store is left exactly as it was. The bytes are in
 * docs/FORMAT.md; the rules below are in its "What opening reads and
 * checks" and in DESIGN.md ("Recovery").
 *
 * @internal
 */
import * as path from 'node:path';
import { BirchError, corrupt, ioError } from '../errors.js';
import type { FileIO } from './fileio.js';
import {
  DEFAULT_BLOCK_SIZE,
  LOCK_FILE,
  META_FILE,
  META_SIZE,
  META_TMP_FILE,
  RECORD_CREATED,
  RECORD_FILE,
  RECORD_TMP_FILE,
  decodeMeta,
  encodeMeta,
} from './format.js';
import { DirLock } from './lock.js';
import { SegmentRecord, type RecordState } from './record.js';
import { recoverTail } from './recover.js';
import { segmentFirsts, segmentName, type Segment } from './segments.js';

/** What an opened directory hands the block store. */
export interface OpenedDir {
  dir: string;
  blockSize: number;
  lock: DirLock;
  /** Every segment of the log, oldest first; the last one's descriptor is open. */
  segments: Segment[];
  /** The number the next appended block gets. */
  next: number;
  /** The segment record, open for appending. */
  record: SegmentRecord;
  /** Segment files below the record's freed mark that are still there (a power loss undid their unlink): to delete, never to read. */
  doomed: number[];
  /** A store created with `unpublished`: its meta file is still birch.meta.tmp (see publishMeta). */
  unpublished: boolean;
  /** Set if the last append could not be written again (recoverLast): then,
   * as after a failed append, no appends until the store is reopened. */
  failure?: BirchError;
}

/** Names a crashed creation may leave in the directory of a store that does not exist yet. */
const CREATION_LEFTOVERS = new Set([LOCK_FILE, META_TMP_FILE, RECORD_FILE, RECORD_TMP_FILE]);

/**
 * Open (creating if needed) the store directory `dir`. With `unpublished`,
 * a new store is created without renaming its meta file into place: the
 * directory is not a store (open() refuses it: segment files without
 * birch.meta) until publishMeta() is called. For a backup that must never
 * look like a store before it is whole.
 */
export function openDir(io: FileIO, dir: string, wantedBlockSize: number | undefined, sync: boolean, unpublished = false): OpenedDir {
  dir = path.resolve(dir);
  const names = listOrCreate(io, dir, sync);
  const hasMeta = names.includes(META_FILE);
  if (!hasMeta) {
    // A new store may only be made in an empty directory (or one left by a
    // creation that crashed before the meta file was renamed into place).
    const foreign = names.filter((n) => !CREATION_LEFTOVERS.has(n));
    if (foreign.length > 0) {
      throw new BirchError(
        'BIRCH_NOT_A_STORE',
        `${dir} is not empty and holds no birch store (found ${foreign.slice(0, 3).join(', ')})`,
        { file: dir },
      );
    }
  }
  // The meta file is only ever replaced by rename, so reading it unlocked is
  // safe. (The block size is compared under the lock: a store in use is
  // BIRCH_LOCKED.)
  const meta = hasMeta ? readMeta(io, dir) : undefined;
  const lock = DirLock.acquire(dir);
  let record: SegmentRecord | undefined;
  let lastFd: number | undefined;
  if (unpublished && meta !== undefined) {
    lock.release();
    throw new BirchError('BIRCH_BAD_ARGUMENT', `${dir} already holds a store`, { file: dir });
  }
  try {
    let blockSize: number;
    if (meta !== undefined) {
      blockSize = checkBlockSize(dir, meta.blockSize, wantedBlockSize);
    } else {
      blockSize = createStore(io, dir, wantedBlockSize, sync, unpublished);
    }
    record = SegmentRecord.open(io, dir, sync);
    const { segments, doomed } = matchFiles(dir, segmentFirsts(names), record.view);
    // Leftovers are deleted on the word of the freed mark: it must be
    // durable first (a killed process may have left it in the page cache).
    if (doomed.length > 0) record.syncDurable();
    let next = 0;
    let failure: BirchError | undefined;
    const last = segments[segments.length - 1];
    if (last !== undefined) {
      // All but the last were complete and fsynced before the last was created.
      for (let i = 0; i + 1 < segments.length; i++) segments[i]!.blocks = segments[i + 1]!.first - segments[i]!.first;
      if (last.slots < 0 && segments.length > 1) checkBeforeAdopted(io, dir, segments[segments.length - 2]!, blockSize);
      const file = path.join(dir, segmentName(last.first));
      last.fd = lastFd = openFile(io, file, 'r+');
      failure = recoverLast(io, last, file, blockSize, sync, record);
      next = last.first + last.blocks;
    }
    return { dir, blockSize, lock, segments, next, record, doomed, unpublished, ...(failure !== undefined && { failure }) };
  } catch (err) {
    if (lastFd !== undefined) io.closeSync(lastFd);
    record?.closeSync();
    lock.release();
    throw err;
  }
}

/**
 * The log's segments: the segment files the record holds, each of which must
 * be there; plus, at most, one newer file the record does not hold yet (a
 * crash between a new segment's first append and its entry: adopted, see
 * recoverLast). Files below the freed mark are leftovers of a free() that a
 * power loss partly undid.
 */
function matchFiles(dir: string, files: number[], rec: Readonly<RecordState>): { segments: Segment[]; doomed: number[] } {
  const doomed = files.filter((f) => f < rec.freedBelow);
  const present = new Set(files);
  const segments: Segment[] = [];
  for (const [first, slots] of rec.live) {
    if (!present.has(first)) {
      throw corrupt(
        `segment file ${segmentName(first)} is missing: the segment record lists it (created with ${slots} blocks), so acknowledged data is gone`,
        path.join(dir, segmentName(first)),
        0,
      );
    }
    segments.push({ first, blocks: 0, slots, fd: undefined });
  }
  const newest = segments[segments.length - 1]?.first ?? -1;
  const extra = files.filter((f) => f >= rec.freedBelow && !rec.live.has(f));
  for (const f of extra) {
    if (f < newest) {
      throw corrupt(`segment file ${segmentName(f)} lies between the segments of the record, which does not list it`, path.join(dir, segmentName(f)), 0);
    }
  }
  if (extra.length > 1) {
    throw corrupt(
      `${extra.length} segment files (${extra.slice(0, 3).map(segmentName).join(', ')}${extra.length > 3 ? ', ...' : ''}) are newer than the newest the segment record lists; only one can be (a crash while it was started)`,
      path.join(dir, segmentName(extra[1]!)),
      0,
    );
  }
  // slots -1: not recorded; recoverLast decides from the file.
  if (extra.length === 1) segments.push({ first: extra[0]!, blocks: 0, slots: -1, fd: undefined });
  for (let i = 0; i + 1 < segments.length; i++) {
    const s = segments[i]!;
    const used = segments[i + 1]!.first - s.first;
    if (used > s.slots) {
      throw corrupt(
        `segment ${segmentName(s.first)} would hold ${used} blocks (up to the next file's first block), but it was created with ${s.slots}`,
        path.join(dir, segmentName(s.first)),
        0,
      );
    }
  }
  return { segments, doomed };
}

/**
 * Before a file the record does not hold is adopted as the last segment: it
 * can only come from a crash just after the segment before it was complete,
 * so that one must hold whole appends exactly up to the new file's first
 * block, and nothing after them.
 */
function checkBeforeAdopted(io: FileIO, dir: string, prev: Segment, blockSize: number): void {
  const file = path.join(dir, segmentName(prev.first));
  const fd = openFile(io, file, 'r');
  try {
    const tail = recoverTail(io, fd, file, prev.first, blockSize);
    if (tail.blocks !== prev.blocks || tail.dirty.length > 0) {
      throw corrupt(
        `segment file ${segmentName(prev.first + prev.blocks)} is not in the segment record, and ${segmentName(prev.first)} before it does not end where it begins`,
        file,
        tail.blocks * blockSize,
      );
    }
  } catch (err) {
    throw err instanceof BirchError ? err : ioError('recovering', file, err);
  } finally {
    io.closeSync(fd);
  }
}

/**
 * Recover the last segment's tail (recover.ts): a file shorter than the
 * record says lost its end (BIRCH_CORRUPT); a torn append is zeroed (the
 * file keeps its size), anything past its recorded size cut; then the file
 * (its last append written again first), the directory and (if the file was
 * not recorded yet, or holds more than recorded) a record entry are made
 * durable. Returns why appends must wait for a reopen, if they must.
 */
function recoverLast(
  io: FileIO,
  last: Segment,
  file: string,
  blockSize: number,
  sync: boolean,
  record: SegmentRecord,
): BirchError | undefined {
  const fd = last.fd!;
  let tail: ReturnType<typeof recoverTail>;
  try {
    tail = recoverTail(io, fd, file, last.first, blockSize);
  } catch (err) {
    throw err instanceof BirchError ? err : ioError('recovering', file, err);
  }
  const recorded = last.slots >= 0;
  if (recorded && tail.size < last.slots * blockSize) {
    throw corrupt(
      `segment file ${segmentName(last.first)} is ${tail.size} bytes, but it was created with ${last.slots} blocks (${last.slots * blockSize} bytes): its end is gone`,
      file,
      tail.size,
    );
  }
  const slots = Math.max(recorded ? last.slots : tail.slots, tail.blocks);
  const zeroed = tail.dirty.filter(([from]) => from < slots);
  let failure: BirchError | undefined;
  try {
    for (const [from, to] of zeroed) {
      const end = Math.min(to, slots);
      const zeros = Buffer.alloc((end - from) * blockSize);
      io.writeSync(fd, zeros, 0, zeros.length, from * blockSize);
    }
    if (tail.size > slots * blockSize) io.ftruncateSync(fd, slots * blockSize);
    // After a process crash the tail recovery accepted (and the segment
    // files' directory entries) may still be only in the page cache: make
    // them durable before anything is served or appended on top.
    if (sync) {
      // Only the last append can be undurable (each one is fsynced before
      // the next is written). If an fsync of it failed before (the writer
      // then refused to go on), Linux has marked its pages clean though they
      // never reached the disk, and reports that failure only once: our
      // fsync would succeed without them. Writing them again makes them
      // dirty, so the fsync below covers them. If that write fails (a full
      // disk), the store still opens for reading, but nothing may be
      // appended after an append that may not be durable.
      //
      // Not when a torn append followed it: that one was written only after
      // the last whole append's fsync succeeded, so the last whole append is
      // durable, and rewriting durable bytes is only a chance for a power
      // loss to tear them.
      if (zeroed.length === 0) {
        const pos = tail.lastAppend * blockSize;
        const again = readAt(io, fd, pos, (tail.blocks - tail.lastAppend) * blockSize);
        try {
          if (again.length > 0) io.writeSync(fd, again, 0, again.length, pos);
        } catch (err) {
          failure = ioError('writing the last append again', file, err);
        }
      }
      io.fsyncSync(fd);
      io.fsyncDirSync(path.dirname(file));
    }
  } catch (err) {
    throw ioError(zeroed.length > 0 ? 'clearing a torn append' : 'syncing the last segment', file, err);
  }
  if (!recorded || slots > last.slots) record.appendSync({ kind: RECORD_CREATED, first: last.first, slots });
  last.blocks = tail.blocks;
  last.slots = slots;
  return failure;
}

/** The directory's entries, after creating it (and its missing parents, durably) if absent. */
function listOrCreate(io: FileIO, dir: string, sync: boolean): string[] {
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
  try {
    return io.readdirSync(dir);
  } catch (err) {
    throw ioError('listing', dir, err);
  }
}

/** `length` bytes at `pos`. */
function readAt(io: FileIO, fd: number, pos: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const n = io.readSync(fd, buf, done, length - done, pos + done);
    if (n === 0) throw new Error(`short read at ${pos + done}`);
    done += n;
  }
  return buf;
}

export function openFile(io: FileIO, file: string, flags: string): number {
  try {
    return io.openSync(file, flags);
  } catch (err) {
    throw ioError('opening', file, err);
  }
}

/** The block size and version in the meta file (NOT_A_STORE if it is not birch's, CORRUPT if damaged). */
function readMeta(io: FileIO, dir: string): { blockSize: number; version: number } {
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
    if (meta.reason === 'version') throw new BirchError('BIRCH_VERSION', `${dir}: ${meta.message}`, { file });
    throw corrupt(meta.message, file, 0);
  }
  return meta;
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

/**
 * Create a store: an empty segment record, then the meta file atomically
 * (temporary file, fsync, rename). The directory is fsynced before the
 * rename, so a meta file that survives a power loss always has its record.
 */
function createStore(io: FileIO, dir: string, wanted: number | undefined, sync: boolean, unpublished: boolean): number {
  const blockSize = wanted ?? DEFAULT_BLOCK_SIZE;
  const tmp = path.join(dir, META_TMP_FILE);
  try {
    SegmentRecord.create(io, dir, sync);
    const fd = io.openSync(tmp, 'w');
    try {
      const meta = encodeMeta(blockSize);
      io.writeSync(fd, meta, 0, meta.length, 0);
      if (sync) io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    if (sync) io.fsyncDirSync(dir);
    if (!unpublished) publishMeta(io, dir, sync);
  } catch (err) {
    throw ioError('creating the store', dir, err);
  }
  return blockSize;
}

/** Rename a new store's meta file into place: from now on the directory is a store. */
export function publishMeta(io: FileIO, dir: string, sync: boolean): void {
  io.renameSync(path.join(dir, META_TMP_FILE), path.join(dir, META_FILE));
  if (sync) {
    io.fsyncDirSync(dir);
    io.fsyncDirSync(path.dirname(dir)); // the directory may be new (or left by a crashed creation)
  }
}
