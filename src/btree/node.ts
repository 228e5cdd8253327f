/**
 * In-memory nodes. Terms (kivaloo's): a *node* lives in memory, a *page* is
 * its serialization, a *block* is where a page is stored.
 *
 * A node is either clean (it is the page stored at `blockNo`, and is never
 * changed again: snapshots and iterators may hold it) or dirty (made by the
 * batch being built, `blockNo === DIRTY`, free to change until it is
 * written). A clean leaf keeps its entries packed in its page buffer (one
 * buffer and one offset array per leaf, which keeps a large cache cheap for
 * the garbage collector); a dirty leaf holds them as arrays of buffers so
 * that a batch can insert and delete cheaply.
 *
 * @internal
 */
import { compareBytes } from './compare.js';
import { entrySizeAt, sortKeyEnd, valueStart } from './entry.js';
import { fillHeads, prefixOf } from './heads.js';

export const DIRTY = -1;

/** Bytes of the header every page starts with (see serialize.ts). */
export const PAGE_HEADER_SIZE = 8;
/** Serialized size of a parent's per-child pointer: block number + oldest leaf. */
export const CHILD_POINTER_SIZE = 16;

/** Serialized size of a separator (a sort-key prefix of 1 to 256 bytes): its length minus one, then its bytes. */
export function separatorSize(key: Uint8Array): number {
  return 1 + key.length;
}

/**
 * A leaf. Each entry is held as its serialized bytes (entry.ts) at an
 * offset in some buffer: in a clean leaf, all in
 * its page; in a dirty leaf, entries copied from the clean one still point
 * into that page and only new or changed entries have buffers of their own.
 * So dirtying a leaf copies two arrays of references, not its keys, and
 * serializing it copies whole runs of untouched entries at once.
 */
export class Leaf {
  readonly leaf = true as const;
  blockNo: number;
  /** Serialized size of this node's page (header + entries, no root trailer). */
  size: number;
  /** The page holding every entry (clean leaves). */
  page: Buffer | undefined;
  /** Per-entry buffers (dirty leaves); undefined means all entries are in `page`. */
  bufs: Buffer[] | undefined;
  /** Offset of each entry in its buffer. */
  offs: Uint32Array | number[];
  /** Clean leaves: the keys' shared prefix length and their heads (heads.ts). */
  prefix: number;
  heads: Uint32Array | undefined;
  /** Cached clean nodes: used since the cache last looked (cache.ts), and the cached parent that refers to it directly. */
  ref = false;
  owner: Parent | undefined = undefined;
  ownerSlot = 0;
  /** The record (records.ts) holding this clean node's page and arrays, when it has one of its own. */
  record: ArrayBuffer | undefined = undefined;
  /** Cached clean nodes: the cache's LRU list, when the node last moved to its front, and what it counts for. */
  lruPrev: Node | undefined = undefined;
  lruNext: Node | undefined = undefined;
  lruStamp = 0;
  lruCost = 0;
  /** A verbatim dirty copy (cloneDirty): the clean leaf whose page and arrays it shares. */
  source: Leaf | undefined = undefined;

  constructor(blockNo: number, size: number, page: Buffer | undefined, bufs: Buffer[] | undefined, offs: Uint32Array | number[]) {
    this.blockNo = blockNo;
    this.size = size;
    this.page = page;
    this.bufs = bufs;
    this.offs = offs;
    this.prefix = 0;
    this.heads = undefined;
  }

  /**
   * A clean leaf over `page` (entry i's key length byte at offs[i]); `heads`
   * (as long as offs) is filled here. See newRecord() for why the three
   * usually share one ArrayBuffer.
   */
  static packed(blockNo: number, page: Buffer, offs: Uint32Array, size: number, heads: Uint32Array = new Uint32Array(offs.length)): Leaf {
    const leaf = new Leaf(blockNo, size, page, undefined, offs);
    leaf.prefix = prefixOf(page, offs);
    leaf.heads = fillHeads(heads, page, offs, leaf.prefix);
    return leaf;
  }

  /** A clean leaf at `blockNo` over `other`'s page and arrays (the same bytes stored again). */
  static packedWith(blockNo: number, other: Leaf): Leaf {
    const leaf = new Leaf(blockNo, other.size, other.page, undefined, other.offs);
    leaf.prefix = other.prefix;
    leaf.heads = other.heads;
    return leaf;
  }

  /** A dirty leaf from entry references (buffers and offsets). */
  static dirty(bufs: Buffer[], offs: number[]): Leaf {
    let size = PAGE_HEADER_SIZE;
    for (let i = 0; i < bufs.length; i++) size += entrySizeAt(bufs[i]!, offs[i]!);
    return new Leaf(DIRTY, size, undefined, bufs, offs);
  }

  static empty(): Leaf {
    return new Leaf(DIRTY, PAGE_HEADER_SIZE, undefined, [], []);
  }

  get count(): number {
    return this.offs.length;
  }

  bufAt(i: number): Buffer {
    return this.bufs === undefined ? this.page! : this.bufs[i]!;
  }

  /** Serialized size of entry i. */
  entrySize(i: number): number {
    return entrySizeAt(this.bufAt(i), this.offs[i]!);
  }

  /** Sort key i (keyspace byte and key) as a view; do not modify or keep past the node. */
  keyAt(i: number): Buffer {
    const b = this.bufAt(i);
    const off = this.offs[i]!;
    return b.subarray(off + 1, sortKeyEnd(b, off));
  }

  /** Value i as a view; do not modify. */
  valueAt(i: number): Buffer {
    const b = this.bufAt(i);
    const vs = valueStart(b, this.offs[i]!);
    return b.subarray(vs, vs + b[vs - 1]!);
  }

  /** Value i as a new buffer of its own. */
  valueCopy(i: number): Buffer {
    const b = this.bufAt(i);
    const vs = valueStart(b, this.offs[i]!);
    const len = b[vs - 1]!;
    const out = Buffer.allocUnsafe(len);
    // A byte loop: 5% faster random gets than Buffer.copy (measured in one
    // process, alternating builds), unlike the arena's copies (arena.ts).
    for (let i = 0; i < len; i++) out[i] = b[vs + i]!;
    return out;
  }

  /** Whether value i equals `v`. */
  valueEquals(i: number, v: Buffer): boolean {
    const b = this.bufAt(i);
    const vs = valueStart(b, this.offs[i]!);
    return b[vs - 1] === v.length && compareBytes(v, 0, v.length, b, vs, vs + v.length) === 0;
  }

  /** Compare the sort key `kb[ks, ke)` with sort key i: negative if it sorts first. */
  compareKey(kb: Uint8Array, ks: number, ke: number, i: number): number {
    const b = this.bufs === undefined ? this.page! : this.bufs[i]!;
    const off = this.offs[i]!;
    return compareBytes(kb, ks, ke, b, off + 1, sortKeyEnd(b, off));
  }

  /**
   * A dirty copy. At first it is *verbatim*: it shares this leaf's page and
   * arrays (and `source` says whose), which is all a leaf the cleaner only
   * moves needs, and what lets the commit write it without copying a byte
   * (serialize.ts). mutable() gives it arrays of its own before a change.
   */
  cloneDirty(): Leaf {
    const d = new Leaf(DIRTY, this.size, this.page, this.bufs, this.offs);
    if (this.bufs !== undefined) {
      d.bufs = this.bufs.slice();
      d.offs = (this.offs as number[]).slice();
      return d;
    }
    d.prefix = this.prefix;
    d.heads = this.heads;
    d.source = this;
    return d;
  }

  /** Make a dirty leaf changeable: entry references in arrays of its own. */
  mutable(): void {
    if (this.bufs !== undefined) return;
    const n = this.offs.length;
    const page = this.page!;
    const bufs = new Array<Buffer>(n);
    const offs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      bufs[i] = page;
      offs[i] = this.offs[i]!;
    }
    this.bufs = bufs;
    this.offs = offs;
    this.page = undefined;
    this.heads = undefined;
    this.prefix = 0;
    this.source = undefined;
  }
}

export class Parent {
  readonly leaf = false as const;
  blockNo: number;
  size: number;
  /** Height above the leaves: 1 when the children are leaves. */
  level: number;
  /** Block number of each child, or DIRTY when `children[i]` holds a dirty node. */
  blocks: number[];
  /** Oldest leaf block below each child (meaningful for clean children). */
  oldest: number[];
  /** Dirty children (dirty parents only); undefined slots are clean. */
  children: (Node | undefined)[] | undefined;
  /**
   * Clean parents, and dirty ones whose separators are still their clean
   * original's: the page, the offset in it of each separator's length byte,
   * and the separators' shared prefix length and heads (heads.ts). The
   * child search reads separators from this one buffer instead of chasing a
   * Buffer object per separator, and a dirty parent whose separators did not
   * change is serialized with one copy of them (serialize.ts).
   */
  page: Buffer | undefined;
  sepOffs: Uint32Array | undefined;
  prefix = 0;
  heads: Uint32Array | undefined;
  /** Separators this (dirty) parent owns, once it has changed them or was built with them. */
  private sepBufs: Buffer[] | undefined;
  /** Views of the separators in `page`, made on first use. */
  private sepViews: Buffer[] | undefined;
  /**
   * Cached clean parents: child i itself once a lookup went through it, so
   * the next one follows a reference instead of looking the block up in the
   * cache's map (cache.ts keeps these true when it lets a node go).
   */
  childRefs: (Node | undefined)[] | undefined;
  /** Cached clean nodes: used since the cache last looked, and the cached parent that refers to it directly. */
  ref = false;
  owner: Parent | undefined = undefined;
  ownerSlot = 0;
  /** The record (records.ts) holding this clean node's page and arrays, when it has one of its own. */
  record: ArrayBuffer | undefined = undefined;
  /** Cached clean nodes: the cache's LRU list, when the node last moved to its front, and what it counts for. */
  lruPrev: Node | undefined = undefined;
  lruNext: Node | undefined = undefined;
  lruStamp = 0;
  lruCost = 0;

  constructor(blockNo: number, level: number, keys: Buffer[], blocks: number[], oldest: number[]) {
    this.blockNo = blockNo;
    this.level = level;
    this.sepBufs = keys;
    this.blocks = blocks;
    this.oldest = oldest;
    this.children = undefined;
    this.page = undefined;
    this.sepOffs = undefined;
    this.heads = undefined;
    this.sepViews = undefined;
    this.childRefs = undefined;
    let size = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * blocks.length;
    for (const k of keys) size += separatorSize(k);
    this.size = size;
  }

  /** A clean parent over its page (separator i's length byte at sepOffs[i]; `heads` filled here). */
  static packed(
    blockNo: number,
    level: number,
    blocks: number[],
    oldest: number[],
    page: Buffer,
    sepOffs: Uint32Array,
    size: number,
    heads: Uint32Array = new Uint32Array(sepOffs.length),
  ): Parent {
    const p = new Parent(blockNo, level, [], blocks, oldest);
    p.size = size;
    p.makeClean(page, sepOffs, heads);
    return p;
  }

  /**
   * Become the clean parent stored in `page` (its separators' length bytes at
   * `sepOffs`). `heads` is filled here, unless `prefix` says it already is.
   */
  makeClean(page: Buffer, sepOffs: Uint32Array, heads: Uint32Array, prefix?: number): void {
    this.children = undefined;
    this.page = page;
    this.sepOffs = sepOffs;
    // Separators taken from older pages would keep those pages alive: read them from this one.
    this.sepBufs = undefined;
    this.sepViews = undefined;
    if (prefix !== undefined) {
      this.prefix = prefix;
      this.heads = heads;
    } else {
      this.prefix = prefixOf(page, sepOffs);
      this.heads = fillHeads(heads, page, sepOffs, this.prefix);
    }
  }

  /**
   * Separators (n-1 of them): child i holds the keys k with keys[i-1] <= k <
   * keys[i]. A separator is the shortest prefix dividing two siblings
   * (compare.ts), not necessarily a key in the tree. Read only (views into
   * the page, unless the parent owns its separators): to change them, use
   * ownKeys().
   */
  get keys(): Buffer[] {
    if (this.sepBufs !== undefined) return this.sepBufs;
    if (this.sepViews === undefined) {
      const page = this.page!;
      const offs = this.sepOffs!;
      const keys = new Array<Buffer>(offs.length);
      for (let i = 0; i < offs.length; i++) {
        const off = offs[i]!;
        keys[i] = page.subarray(off + 1, off + 2 + page[off]!);
      }
      this.sepViews = keys;
    }
    return this.sepViews;
  }

  /** Length of separator i. */
  separatorLength(i: number): number {
    if (this.sepBufs !== undefined) return this.sepBufs[i]!.length;
    return this.page![this.sepOffs![i]!]! + 1;
  }

  /** Whether this dirty parent's separators are still its clean original's (in `page`). */
  get sharesSeparators(): boolean {
    return this.sepBufs === undefined;
  }

  /** The separators of a dirty parent, as an array it owns and may change (it stops sharing its original's page). */
  ownKeys(): Buffer[] {
    if (this.sepBufs === undefined) {
      this.sepBufs = this.keys;
      this.sepViews = undefined;
      this.page = undefined;
      this.sepOffs = undefined;
      this.heads = undefined;
      this.prefix = 0;
    }
    return this.sepBufs;
  }

  get count(): number {
    return this.blocks.length;
  }

  /**
   * A dirty copy with child arrays of its own; its separators stay the
   * original's (its page, offsets and heads, still searched through) until
   * ownKeys() is called to change them.
   */
  cloneDirty(): Parent {
    const p = new Parent(DIRTY, this.level, [], this.blocks.slice(), this.oldest.slice());
    p.size = this.size;
    if (this.sepBufs !== undefined) {
      p.sepBufs = this.sepBufs.slice();
    } else {
      p.sepBufs = undefined;
      p.page = this.page;
      p.sepOffs = this.sepOffs;
      p.heads = this.heads;
      p.prefix = this.prefix;
    }
    p.children = new Array<Node | undefined>(this.blocks.length);
    return p;
  }
}

export type Node = Leaf | Parent;
