/**
 * Copying one commit's pages into another block store: the engine of
 * `Store.backup()`. The pages are read from the source (each block's CRC is
 * verified by the read) and appended to the destination in post-order,
 * children before parents, the root last, exactly as a commit lays them out
 * (FORMAT.md, "How a commit lays out its pages"). Leaf pages are copied byte
 * for byte, so every byte of every entry is kept; a parent page gets its
 * children's new block numbers and oldest-leaf pointers; the root's commit
 * trailer gets the new oldest leaf (its sequence number and counts stay).
 * The result holds the live pages of that commit and nothing else.
 *
 * The pages are read straight from the block store, by the byte layout of
 * FORMAT.md (page header, child pointers, trailer), not through the node
 * cache: a copy neither fills the cache with the whole tree nor depends on
 * how nodes are held in memory. Every page of a commit lies at or above its
 * oldest leaf, and the caller pins the commit, so none is freed meanwhile;
 * committed pages never change, so reading them never waits for a commit.
 *
 * Between appends the copy yields the event loop, so writers and readers of
 * the source go on; an append is at most `chunkPages` pages.
 *
 * @internal
 */
import { BirchError, invariant } from '../errors.js';
import { readU64, writeU64, type BlockStore } from '../lbs/index.js';
import type { Commit } from './commit.js';
import { CHILD_POINTER_SIZE, PAGE_HEADER_SIZE } from './node.js';
import { FLAG_ROOT, TRAILER_OLDEST, TRAILER_SIZE, TYPE_LEAF, TYPE_PARENT } from './serialize.js';

export interface CopyProgress {
  /** Pages appended to the destination so far. */
  pages: number;
  /** Pages in the commit. */
  total: number;
}

export interface CopyOptions {
  /** Most pages per append (and between two yields of the event loop). */
  chunkPages: number;
  /** Called after every append. */
  onProgress?: (p: CopyProgress) => void;
  /** Called before every chunk; throwing stops the copy (the store closing). */
  check?: () => void;
}

interface Frame {
  block: number;
  page: Buffer;
  /** Children (parents only). */
  n: number;
  /** Next child to visit. */
  next: number;
}

/**
 * Append every page of `commit` (read from `src`) to the empty store `dst`;
 * resolves with the number of pages copied.
 */
export async function copyCommit(src: BlockStore, commit: Commit, dst: BlockStore, opts: CopyOptions): Promise<number> {
  if (commit.empty) return 0;
  invariant(dst.nextBlock === 0, 'a copy goes into an empty store');
  const total = commit.pages;
  let pending: Buffer[] = [];
  let written = 0;
  /** New block number and new oldest leaf of each finished child, per open parent. */
  const kids: { blocks: number[]; oldest: number[] }[] = [];
  const stack: Frame[] = [];

  const bad = (block: number, why: string): never => {
    const where = src.locate(block);
    const msg = `page in block ${block} cannot be copied: ${why}`;
    throw new BirchError('BIRCH_CORRUPT', where === undefined ? msg : `${msg} (${where.file} at offset ${where.offset})`, where ?? {});
  };
  const visit = (block: number, parentBlock: number | undefined): void => {
    if (parentBlock !== undefined && block >= parentBlock) bad(parentBlock, `child ${block} was not written before it`);
    // A copy of its own: the page is patched, and kept until its append.
    const page = Buffer.from(src.read(block));
    if (page.length < PAGE_HEADER_SIZE) bad(block, 'shorter than its header');
    const type = page[0];
    const root = (page[1]! & FLAG_ROOT) !== 0;
    if (root !== (parentBlock === undefined)) bad(block, root ? 'a page below the root has a commit trailer' : 'the root has no commit trailer');
    const n = page.readUInt16LE(2);
    if (type === TYPE_PARENT) {
      if (n === 0 || PAGE_HEADER_SIZE + n * CHILD_POINTER_SIZE > page.length - (root ? TRAILER_SIZE : 0)) bad(block, 'child pointers past its end');
    } else if (type !== TYPE_LEAF) {
      bad(block, `unknown page type ${String(type)}`);
    }
    stack.push({ block, page, n: type === TYPE_PARENT ? n : 0, next: 0 });
    kids.push({ blocks: [], oldest: [] });
  };

  visit(commit.root.blockNo, undefined);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.n) {
      const child = readU64(top.page, PAGE_HEADER_SIZE + top.next * CHILD_POINTER_SIZE);
      top.next++;
      visit(child, top.block);
      continue;
    }
    // All its children are written: this page goes next, with their new numbers.
    stack.pop();
    const mine = kids.pop()!;
    const newBlock = written + pending.length;
    let oldest = newBlock;
    for (let i = 0; i < top.n; i++) {
      const at = PAGE_HEADER_SIZE + i * CHILD_POINTER_SIZE;
      writeU64(top.page, at, mine.blocks[i]!);
      writeU64(top.page, at + 8, mine.oldest[i]!);
      if (mine.oldest[i]! < oldest) oldest = mine.oldest[i]!;
    }
    if (stack.length === 0) writeU64(top.page, top.page.length - TRAILER_SIZE + TRAILER_OLDEST, oldest);
    pending.push(top.page);
    const parent = kids[kids.length - 1];
    if (parent !== undefined) {
      parent.blocks.push(newBlock);
      parent.oldest.push(oldest);
    }
    if (pending.length >= opts.chunkPages || stack.length === 0) {
      opts.check?.();
      const first = await dst.append(pending);
      invariant(first === written, `copy appended at ${first}, expected ${written}`);
      written += pending.length;
      pending = [];
      opts.onProgress?.({ pages: written, total });
      if (stack.length > 0) await new Promise((r) => setImmediate(r));
    }
  }
  if (written !== total) {
    throw new BirchError('BIRCH_CORRUPT', `the commit's trailer says ${total} pages, its tree has ${written}`);
  }
  return written;
}
