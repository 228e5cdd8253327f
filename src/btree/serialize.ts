/**
 * Page format: how a node becomes the payload of one block, and back. The
 * byte tables (page header, leaf pair, child pointer, separator, commit
 * trailer) are in docs/FORMAT.md, "Pages": the one copy, which
 * test/docs/format.test.ts checks against a real store. The constants and
 * the writer and reader below must change with it. What the code relies on:
 *
 *   size(leaf)   = 8 + sum over pairs of (4 + k + v, plus 8 with a deadline)
 *   size(parent) = 8 + 16 n + sum over the n - 1 separators of (1 + length)
 *
 * (Node.size keeps these as nodes change; encodePage asserts that it wrote
 * exactly that many bytes.) Child i of a parent holds the keys from
 * separator i-1 (inclusive) to separator i (exclusive); a separator is the
 * shortest prefix that divides two siblings (compare.ts), not necessarily a
 * key in the tree.
 *
 * Size bounds. Every node must fit in `nodeCapacity = pageCapacity - 48` so
 * that any node can become the root (and carry the 48-byte trailer). A pair
 * is at most MAX_PAIR_SIZE = 4 + 255 + 255 + 8 = 522 bytes and a separator
 * with its pointer at most 16 + 1 + 256 = 273; the split pass always
 * succeeds if one more of either fits in a third of a node (kivaloo's rule),
 * so nodeCapacity must be at least MIN_NODE_CAPACITY = 3 * 522 = 1566 bytes,
 * which block sizes of MIN_TREE_BLOCK_SIZE (2048) and up satisfy.
 *
 * @internal
 */
import { BirchError, corrupt, invariant } from '../errors.js';
import { BLOCK_HEADER_SIZE, readU64, writeU64 } from '../lbs/index.js';
import { DEADLINE_SIZE, ENTRY_OVERHEAD, FLAG_DEADLINE, KS_LAST, entrySizeAt } from './entry.js';
import { CHILD_POINTER_SIZE, Leaf, PAGE_HEADER_SIZE, Parent, type Node } from './node.js';
import { newRecord } from './records.js';

export const TYPE_LEAF = 1;
export const TYPE_PARENT = 2;
export const FLAG_ROOT = 1;
export const TRAILER_SIZE = 48;
/** Offset of the `oldest` field in the commit trailer (the copy of a backup rewrites it). */
export const TRAILER_OLDEST = 32;
export const TRAILER_MAGIC = 0x33545242; // 'BRT3' read as u32 LE
/** The trailer magic of birch 0.1.0's page format (entries without keyspace or flags): refused by name. */
export const TRAILER_MAGIC_1 = 0x31545242; // 'BRT1'
/** The longest key and the longest value, in bytes (kivaloo's limits; one length byte each). */
export const MAX_KEY_SIZE = 255;
export const MAX_VALUE_SIZE = 255;
/** The largest entry (entry.ts): its four bytes of lengths and flags, key, value, deadline. */
export const MAX_PAIR_SIZE = ENTRY_OVERHEAD + MAX_KEY_SIZE + MAX_VALUE_SIZE + DEADLINE_SIZE;
export const MIN_NODE_CAPACITY = 3 * MAX_PAIR_SIZE;
/** The smallest block size the tree takes: the least power of two whose node capacity is MIN_NODE_CAPACITY or more. */
export const MIN_TREE_BLOCK_SIZE = 2048;
invariant(MIN_TREE_BLOCK_SIZE - BLOCK_HEADER_SIZE - TRAILER_SIZE >= MIN_NODE_CAPACITY, 'MIN_TREE_BLOCK_SIZE too small');

export interface CommitTrailer {
  seq: number;
  /** Entries in the tree, in every keyspace. */
  keys: number;
  /** Of those, the store's own entries (the expiry index, the table catalog, dropped tables' marks). */
  internal: number;
  pages: number;
  oldest: number;
  height: number;
}

/** A serialized node: the payload to append, and the clean node it becomes. */
export interface Encoded {
  /** The page, commit trailer included for a root. */
  payload: Buffer;
  /** The clean node over that page: a new Leaf, or the parent itself made clean. */
  clean: Node;
}

/**
 * Serialize dirty `node` (numbered `node.blockNo`, its children's block
 * numbers already assigned), with a trailer if root, into one new record
 * (newRecord) that also becomes the clean node: a leaf's entries are
 * referenced in place, so the page on disk and the node in the cache are the
 * same bytes. A dirty parent turns clean itself (its dirty children must
 * have been encoded first).
 */
export function encodePage(node: Node, trailer: CommitTrailer | undefined): Encoded {
  const source = node.leaf ? node.source : undefined;
  if (source !== undefined && trailer === undefined) {
    // A leaf moved unchanged (the cleaner's): the same bytes at a new block.
    // The new clean leaf shares the old one's record, and takes it over, so
    // the old node's going never hands that memory out again.
    const clean = Leaf.packedWith(node.blockNo, source);
    clean.record = source.record;
    source.record = undefined;
    return { payload: source.page!, clean };
  }
  const total = node.size + (trailer === undefined ? 0 : TRAILER_SIZE);
  const n = node.leaf ? node.count : node.count - 1;
  const { record, page: buf, offs, heads } = newRecord(total, n);
  buf[0] = node.leaf ? TYPE_LEAF : TYPE_PARENT;
  buf[1] = trailer === undefined ? 0 : FLAG_ROOT;
  buf.writeUInt16LE(node.count, 2);
  buf[4] = node.leaf ? 0 : node.level;
  buf[5] = buf[6] = buf[7] = 0;
  let p = PAGE_HEADER_SIZE;
  if (node.leaf) {
    // Copy runs of entries that lie back to back in one buffer in one go.
    let i = 0;
    while (i < n) {
      const src = node.bufAt(i);
      const start = node.offs[i]!;
      offs[i] = p;
      let end = start + entrySizeAt(src, start);
      let j = i + 1;
      while (j < n && node.bufAt(j) === src && node.offs[j] === end) {
        offs[j] = p + (end - start);
        end += entrySizeAt(src, end);
        j++;
      }
      if (start === 0 && end === src.length) buf.set(src, p); // an entry of its own: no subarray
      else src.copy(buf, p, start, end);
      p += end - start;
      i = j;
    }
  } else {
    for (let i = 0; i < node.blocks.length; i++) {
      writeU64(buf, p, node.blocks[i]!);
      writeU64(buf, p + 8, node.oldest[i]!);
      p += CHILD_POINTER_SIZE;
    }
    if (node.sharesSeparators) {
      // The separators of the clean original, unchanged: one copy of them,
      // at the same offsets (as many children, so as many pointers before
      // them), with the same heads.
      const src = node.page!;
      const srcOffs = node.sepOffs!;
      const last = srcOffs[n - 1];
      const end = last === undefined ? p : last + 2 + src[last]!;
      src.copy(buf, p, p, end);
      offs.set(srcOffs);
      heads.set(node.heads!);
      p = end;
    } else {
      const keys = node.keys;
      for (let i = 0; i < n; i++) {
        const k = keys[i]!;
        offs[i] = p;
        buf[p++] = k.length - 1;
        buf.set(k, p);
        p += k.length;
      }
    }
  }
  invariant(p === node.size, `serializer wrote ${p} bytes, size() said ${node.size}`);
  if (trailer !== undefined) {
    writeU64(buf, p, trailer.seq);
    writeU64(buf, p + 8, trailer.keys);
    writeU64(buf, p + 16, trailer.internal);
    writeU64(buf, p + 24, trailer.pages);
    writeU64(buf, p + TRAILER_OLDEST, trailer.oldest);
    buf.writeUInt32LE(trailer.height, p + 40);
    buf.writeUInt32LE(TRAILER_MAGIC, p + 44);
  }
  const clean = node.leaf ? Leaf.packed(node.blockNo, trailer === undefined ? buf : buf.subarray(0, node.size), offs, node.size, heads) : node;
  if (!node.leaf) node.makeClean(buf, offs, heads, node.sharesSeparators ? node.prefix : undefined);
  clean.record = record;
  return { payload: buf, clean };
}

export interface DecodedPage {
  node: Node;
  trailer: CommitTrailer | undefined;
}

/**
 * Parse a page read from block `blockNo` (`locate` says where it is stored,
 * for the error a malformed page raises). Every length is checked against the
 * page bounds; anything malformed raises BIRCH_CORRUPT, never a wrong node.
 */
export function decodePage(page: Buffer, blockNo: number, locate?: (blockNo: number) => { file: string; offset: number } | undefined): DecodedPage {
  const bad = (why: string): never => {
    const message = `page in block ${blockNo} is malformed: ${why}`;
    const where = locate?.(blockNo);
    throw where === undefined ? new BirchError('BIRCH_CORRUPT', message) : corrupt(message, where.file, where.offset);
  };
  if (page.length < PAGE_HEADER_SIZE) bad('shorter than its header');
  // The node keeps its own copy, with room for its search arrays (`page` may
  // be a view the caller reuses).
  const n0 = page.readUInt16LE(2);
  const record = newRecord(page.length, page[0] === TYPE_PARENT ? Math.max(0, n0 - 1) : n0);
  page.copy(record.page);
  page = record.page;
  const type = page[0];
  const flags = page[1]!;
  const n = page.readUInt16LE(2);
  const level = page[4]!;
  if ((flags & ~FLAG_ROOT) !== 0 || page[5] !== 0 || page[6] !== 0 || page[7] !== 0) bad('reserved bits set');
  const end = page.length - (flags & FLAG_ROOT ? TRAILER_SIZE : 0);
  if (end < PAGE_HEADER_SIZE) bad('too short for its trailer');
  let p = PAGE_HEADER_SIZE;
  let node: Node;
  if (type === TYPE_LEAF) {
    if (level !== 0) bad('leaf with nonzero level');
    const offs = record.offs;
    for (let i = 0; i < n; i++) {
      offs[i] = p;
      // key length, keyspace, key, flags, value length, value, deadline (entry.ts)
      if (p + ENTRY_OVERHEAD > end) bad('entry past end');
      const k = page[p]!;
      if (page[p + 1]! > KS_LAST) bad(`unknown keyspace ${page[p + 1]!}`);
      p += 2 + k;
      if (p + 2 > end) bad('key past end');
      const f = page[p]!;
      if ((f & ~FLAG_DEADLINE) !== 0) bad('reserved entry flags set');
      p += 2 + page[p + 1]! + ((f & FLAG_DEADLINE) !== 0 ? DEADLINE_SIZE : 0);
      if (p > end) bad('value past end');
    }
    if (p !== end) bad('trailing bytes after pairs');
    node = Leaf.packed(blockNo, page.subarray(0, end), offs, end, record.heads);
  } else if (type === TYPE_PARENT) {
    if (n === 0) bad('parent with no children');
    if (level === 0) bad('parent with level 0');
    if (p + n * CHILD_POINTER_SIZE > end) bad('child pointers past end');
    const blocks = new Array<number>(n);
    const oldest = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      blocks[i] = readU64(page, p);
      oldest[i] = readU64(page, p + 8);
      p += CHILD_POINTER_SIZE;
    }
    const sepOffs = record.offs;
    for (let i = 0; i < n - 1; i++) {
      if (p >= end) bad('separator past end');
      const len = page[p]! + 1;
      if (p + 1 + len > end) bad('separator past end');
      sepOffs[i] = p;
      p += 1 + len;
    }
    if (p !== end) bad('trailing bytes after separators');
    node = Parent.packed(blockNo, level, blocks, oldest, page, sepOffs, end, record.heads);
  } else {
    return bad(`unknown page type ${String(type)}`);
  }
  node.record = record.record;
  let trailer: CommitTrailer | undefined;
  if (flags & FLAG_ROOT) {
    if (page.readUInt32LE(end + 44) !== TRAILER_MAGIC) bad('commit trailer magic');
    trailer = {
      seq: readU64(page, end),
      keys: readU64(page, end + 8),
      internal: readU64(page, end + 16),
      pages: readU64(page, end + 24),
      oldest: readU64(page, end + TRAILER_OLDEST),
      height: page.readUInt32LE(end + 40),
    };
  }
  return { node, trailer };
}
