/**
 * Opening a block store's directory (kivaloo keeps the same job apart, in
 * storage_findfiles.c): make the directory if it is missing, refuse one that
 * holds something else, check or create the meta file, take the lock, list
 * the segment files and recover the last one's tail. The order matters: an
 * existing meta file is checked before the lock is taken (taking it creates
 * birch.lock), so a directory that is not a birch store is left exactly as
 * it was. The bytes are in docs/FORMAT.md.
 *
 * @internal
 */
import * as path from 'node:path';
import { BirchError, corrupt, ioError } from '../errors.js';
import type { FileIO } from './fileio.js';
import { DEFAULT_BLOCK_SIZE, LOCK_FILE, META_FILE, META_SIZE, META_TMP_FILE, decodeMeta, encodeMeta } from './format.js';
import { DirLock } from './lock.js';
import { recoverTail } from './recover.js';
import { segmentFirsts, segmentName, type Segment } from './segments.js';

/** What an opened directory hands the block store. */
export interface OpenedDir {
  dir: string;
  blockSize: number;
  lock: DirLock;
  /** Every segment file, oldest first; the last one's descriptor is open. */
  segments: Segment[];
  /** The number the next appended block gets. */
  next: number;
  /** Set if the last append could not be written again (recoverLast): then,
   * as after a failed append, no appends until the store is reopened. */
  failure?: BirchError;
}

/** Open (creating if needed) the store directory `dir`. */
export function openDir(io: FileIO, dir: string, wantedBlockSize: number | undefined, sync: boolean): OpenedDir {
  dir = path.resolve(dir);
  const names = listOrCreate(io, dir, sync);
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
  // The meta file is written once, by rename, so reading it unlocked is safe.
  // (The block size is compared under the lock: a store in use is BIRCH_LOCKED.)
  const existingBlockSize = hasMeta ? readMeta(io, dir) : undefined;
  const lock = DirLock.acquire(dir);
  let lastFd: number | undefined;
  try {
    const blockSize =
      existingBlockSize !== undefined
        ? checkBlockSize(dir, existingBlockSize, wantedBlockSize)
        : createMeta(io, dir, wantedBlockSize, sync);
    const segments = segmentFirsts(names).map((first): Segment => ({ first, blocks: 0, fd: undefined }));
    let next = 0;
    let failure: BirchError | undefined;
    const last = segments[segments.length - 1];
    if (last !== undefined) {
      // All but the last were complete and fsynced before the last was created.
      for (let i = 0; i + 1 < segments.length; i++) segments[i]!.blocks = segments[i + 1]!.first - segments[i]!.first;
      const file = path.join(dir, segmentName(last.first));
      last.fd = lastFd = openFile(io, file, 'r+');
      ({ blocks: last.blocks, failure } = recoverLast(io, last.fd, file, last.first, blockSize, sync));
      next = last.first + last.blocks;
    }
    return { dir, blockSize, lock, segments, next, ...(failure !== undefined && { failure }) };
  } catch (err) {
    if (lastFd !== undefined) io.closeSync(lastFd);
    lock.release();
    throw err;
  }
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

/**
 * Recover the last segment's tail (recover.ts); returns its valid blocks, cut
 * and synced, and why appends must wait for a reopen, if they must.
 */
function recoverLast(
  io: FileIO,
  fd: number,
  file: string,
  first: number,
  blockSize: number,
  sync: boolean,
): { blocks: number; failure: BirchError | undefined } {
  let failure: BirchError | undefined;
  let tail: ReturnType<typeof recoverTail>;
  try {
    tail = recoverTail(io, fd, file, first, blockSize);
  } catch (err) {
    throw err instanceof BirchError ? err : ioError('recovering', file, err);
  }
  try {
    if (tail.truncated) io.ftruncateSync(fd, tail.blocks * blockSize);
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
      if (!tail.truncated) {
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
    throw ioError(tail.truncated ? 'truncating a torn append' : 'syncing the last segment', file, err);
  }
  return { blocks: tail.blocks, failure };
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
