/**
 * `Store.backup(dest)`: a complete, fsynced store in `dest` holding exactly
 * one commit, the last one committed when backup() was called, while reads
 * and writes go on.
 *
 * The commit is pinned (like a snapshot's), so the cleaner frees none of its
 * pages; they are copied in post-order into a new store (btree/copy.ts),
 * live pages only, leaves byte for byte. The destination is created
 * "unpublished": its meta file is renamed into place only once every page
 * is durable, so an interrupted backup is never a store (open() refuses a
 * directory of segment files without birch.meta). A failed backup removes
 * what it wrote.
 *
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BirchError } from '../errors.js';
import type { Commit, Tree } from '../btree/index.js';
import { BlockStore, DEFAULT_SEGMENT_SIZE } from '../lbs/index.js';
import type { BackupOptions, BackupResult } from './types.js';

/** Pages per append of a backup: about 1 MiB, then the event loop is yielded. */
const CHUNK_BYTES = 1 << 20;

/** Check `dest` (absolute) can take a backup of the store in `source`; returns whether it exists. */
export function checkBackupDest(source: string, dest: string): boolean {
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b + path.sep);
  if (inside(dest, source) || inside(source, dest)) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `a backup of ${source} cannot go to ${dest} (one lies inside the other)`);
  }
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dest, { throwIfNoEntry: false });
  } catch (err) {
    throw new BirchError('BIRCH_IO', `stat failed on ${dest}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err, file: dest });
  }
  if (st === undefined) return false;
  if (!st.isDirectory()) throw new BirchError('BIRCH_BAD_ARGUMENT', `backup destination ${dest} is not a directory`);
  const names = fs.readdirSync(dest);
  if (names.length > 0) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `backup destination ${dest} is not empty (found ${names.slice(0, 3).join(', ')})`);
  }
  return true;
}

/**
 * Copy `commit` (pinned by the caller) of `tree` into a new store at `dest`.
 * `alive` throws once the source is closing (the copy stops at the next chunk).
 */
export async function backupCommit(
  tree: Tree,
  commit: Commit,
  dest: string,
  segmentSize: number | undefined,
  alive: () => void,
  opts: BackupOptions = {},
): Promise<BackupResult> {
  const t0 = performance.now();
  const blockSize = tree.log.blockSize;
  const existed = fs.existsSync(dest);
  let dst: BlockStore | undefined;
  try {
    dst = BlockStore.open(dest, { blockSize, segmentSize: segmentSize ?? DEFAULT_SEGMENT_SIZE, unpublished: true });
    const pages = await tree.copyTo(commit, dst, {
      chunkPages: Math.max(1, Math.floor(CHUNK_BYTES / blockSize)),
      check: alive,
      ...(opts.onProgress !== undefined && {
        onProgress: (p) => opts.onProgress!({ pages: p.pages, total: p.total, bytes: p.pages * blockSize }),
      }),
    });
    alive();
    await dst.publish();
    await dst.close();
    dst = undefined;
    if (pages === 0) opts.onProgress?.({ pages: 0, total: 0, bytes: 0 });
    return {
      dir: dest,
      seq: commit.seq,
      keys: commit.keys,
      pages,
      bytes: pages * blockSize,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    // Remove what this backup wrote: the destination was missing or empty.
    if (dst !== undefined) {
      await dst.close().catch(() => undefined);
      try {
        if (existed) for (const n of fs.readdirSync(dest)) fs.rmSync(path.join(dest, n), { recursive: true, force: true });
        else fs.rmSync(dest, { recursive: true, force: true });
      } catch {
        // best effort; the error below says what went wrong
      }
    }
    throw err;
  }
}
