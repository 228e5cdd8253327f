/**
 * Page format: how a node becomes the payload of one block (the block
 * store adds its own 32-byte header; see src/lbs/format.ts). All integers are
 * little-endian; block numbers are u64 (see lbs/format.ts for why JS numbers
 * hold them exactly).
 *
 * Header, every page (8 bytes):
 *
 * | offset | length | field                                            |
 * | ------ | ------ | ------------------------------------------------ |
 * | 0      | 1      | type: 1 = leaf, 2 = parent                        |
 * | 1      | 1      | flags: bit 0 = root (a commit trailer ends page)  |
 * | 2      | 2      | n: number of pairs (leaf) or children (parent)    |
 * | 4      | 1      | level: 0 for a leaf, 1 + children's level         |
 * | 5      | 3      | reserved, zero                                    |
 *
 * Leaf body: n pairs in ascending key order, each
 *   | 1 | key length k (0...255) | k | key | 1 | value length v (0...255) | v | value |
 * size(leaf) = 8 + sum(2 + k + v)
 *
 * Parent body: n child pointers, then n - 1 separators:
 *   | 8 | child block number | 8 | oldest leaf block number below the child |  (x n)
 *   | 1 | separator length s | s | separator |                               (x n-1)
 * Separator i is the least key of child i+1's subtree; child i holds the keys
 * k with separator i-1 <= k < separator i.
 * size(parent) = 8 + 16 n + sum(1 + s)
 *
 * Commit trailer, only on the root page (the last block of every commit), 40 bytes:
 *
 * | offset | length | field                                      |
 * | ------ | ------ | ------------------------------------------ |
 * | 0      | 8      | commit sequence number (1, 2, ...)         |
 * | 8      | 8      | number of keys in the tree                 |
 * | 16     | 8      | number of pages in the tree                |
 * | 24     | 8      | oldest leaf block number in the tree       |
 * | 32     | 4      | tree height in levels (1 = root is a leaf) |
 * | 36     | 4      | magic, ASCII `BRT1`                        |
 *
 * Size bounds. Every node must fit in `nodeCapacity = pageCapacity - 40` so
 * that any node can become the root. A pair is at most 2 + 255 + 255 = 512
 * bytes and a separator with its pointer at most 16 + 1 + 255 = 272; the
 * split pass always succeeds if one more of either fits in a third of a node
 * (kivaloo's rule), so nodeCapacity must be at least 3 * 512 = 1536 bytes,
 * which block sizes of 2048 and up satisfy.
 *
 * @internal
 */
import { corrupt } from '../errors.js';
import { readU64, writeU64 } from '../lbs/format.js';
import { CHILD_POINTER_SIZE, Leaf, PAGE_HEADER_SIZE, Parent, entrySizeAt, type Node } from './node.js';

export const TYPE_LEAF = 1;
export const TYPE_PARENT = 2;
export const FLAG_ROOT = 1;
export const TRAILER_SIZE = 40;
export const TRAILER_MAGIC = 0x31545242; // 'BRT1' read as u32 LE
export const MAX_PAIR_SIZE = 2 + 255 + 255;
export const MIN_NODE_CAPACITY = 3 * MAX_PAIR_SIZE;

export interface CommitTrailer {
  seq: number;
  keys: number;
  pages: number;
  oldest: number;
  height: number;
}

/**
 * Serialize `node` (its children's block numbers already assigned), with a
 * trailer if root. For a leaf, `offsOut` (length node.count) receives each
 * entry's offset in the page, so the page can serve as the clean leaf as is;
 * for a parent (length node.count - 1), each separator's offset.
 */
export function encodePage(node: Node, trailer: CommitTrailer | undefined, offsOut?: Uint32Array): Buffer {
  const total = node.size + (trailer === undefined ? 0 : TRAILER_SIZE);
  // Not from the shared pool: the page outlives this call in the cache, and a
  // pooled slice would keep a whole pool slab alive with it.
  const buf = Buffer.allocUnsafeSlow(total);
  buf[0] = node.leaf ? TYPE_LEAF : TYPE_PARENT;
  buf[1] = trailer === undefined ? 0 : FLAG_ROOT;
  buf.writeUInt16LE(node.count, 2);
  buf[4] = node.leaf ? 0 : node.level;
  buf[5] = buf[6] = buf[7] = 0;
  let p = PAGE_HEADER_SIZE;
  if (node.leaf) {
    // Copy runs of entries that lie back to back in one buffer in one go.
    const n = node.count;
    let i = 0;
    while (i < n) {
      const src = node.bufAt(i);
      const start = node.offs[i]!;
      if (offsOut !== undefined) offsOut[i] = p;
      let end = start + entrySizeAt(src, start);
      let j = i + 1;
      while (j < n && node.bufAt(j) === src && node.offs[j] === end) {
        if (offsOut !== undefined) offsOut[j] = p + (end - start);
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
    for (let i = 0; i < node.keys.length; i++) {
      const k = node.keys[i]!;
      if (offsOut !== undefined) offsOut[i] = p;
      buf[p++] = k.length;
      buf.set(k, p);
      p += k.length;
    }
  }
  if (p !== node.size) throw new Error(`serializer wrote ${p} bytes, size() said ${node.size}`);
  if (trailer !== undefined) {
    writeU64(buf, p, trailer.seq);
    writeU64(buf, p + 8, trailer.keys);
    writeU64(buf, p + 16, trailer.pages);
    writeU64(buf, p + 24, trailer.oldest);
    buf.writeUInt32LE(trailer.height, p + 32);
    buf.writeUInt32LE(TRAILER_MAGIC, p + 36);
  }
  return buf;
}

export interface DecodedPage {
  node: Node;
  trailer: CommitTrailer | undefined;
}

/**
 * Parse a page read from block `blockNo`. Every length is checked against the
 * page bounds; anything malformed raises BIRCH_CORRUPT, never a wrong node.
 */
export function decodePage(page: Buffer, blockNo: number, file = `block ${blockNo}`): DecodedPage {
  const bad = (why: string): never => {
    throw corrupt(`page in block ${blockNo} is malformed: ${why}`, file, 0);
  };
  if (page.length < PAGE_HEADER_SIZE) bad('shorter than its header');
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
    const offs = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      offs[i] = p;
      if (p >= end) bad('pair past end');
      p += 1 + page[p]!;
      if (p >= end) bad('value past end');
      p += 1 + page[p]!;
      if (p > end) bad('value past end');
    }
    if (p !== end) bad('trailing bytes after pairs');
    node = Leaf.packed(blockNo, page.subarray(0, end), offs, end);
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
    const keys = new Array<Buffer>(n - 1);
    const sepOffs = new Uint32Array(n - 1);
    for (let i = 0; i < n - 1; i++) {
      if (p >= end) bad('separator past end');
      const len = page[p]!;
      if (p + 1 + len > end) bad('separator past end');
      sepOffs[i] = p;
      keys[i] = page.subarray(p + 1, p + 1 + len);
      p += 1 + len;
    }
    if (p !== end) bad('trailing bytes after separators');
    node = new Parent(blockNo, level, keys, blocks, oldest);
    node.page = page;
    node.sepOffs = sepOffs;
  } else {
    return bad(`unknown page type ${String(type)}`);
  }
  let trailer: CommitTrailer | undefined;
  if (flags & FLAG_ROOT) {
    if (page.readUInt32LE(end + 36) !== TRAILER_MAGIC) bad('commit trailer magic');
    trailer = {
      seq: readU64(page, end),
      keys: readU64(page, end + 8),
      pages: readU64(page, end + 16),
      oldest: readU64(page, end + 24),
      height: page.readUInt32LE(end + 32),
    };
  }
  return { node, trailer };
}
