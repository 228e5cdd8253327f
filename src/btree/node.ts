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
import { BirchError } from '../errors.js';

export const DIRTY = -1;

/** Bytes of the header every page starts with (see serialize.ts). */
export const PAGE_HEADER_SIZE = 8;
/** Serialized size of a parent's per-child pointer: block number + oldest leaf. */
export const CHILD_POINTER_SIZE = 16;

export function leafEntrySize(key: Uint8Array, value: Uint8Array): number {
  return 2 + key.length + value.length;
}

export function separatorSize(key: Uint8Array): number {
  return 1 + key.length;
}

export class Leaf {
  readonly leaf = true as const;
  blockNo: number;
  /** Serialized size of this node's page (header + entries, no root trailer). */
  size: number;
  /** Packed form (clean leaves): the page and each entry's offset in it. */
  page: Buffer | undefined;
  offs: Uint32Array | undefined;
  /** Unpacked form (dirty leaves). */
  keys: Buffer[] | undefined;
  vals: Buffer[] | undefined;

  constructor(blockNo: number, size: number) {
    this.blockNo = blockNo;
    this.size = size;
    this.page = undefined;
    this.offs = undefined;
    this.keys = undefined;
    this.vals = undefined;
  }

  static packed(blockNo: number, page: Buffer, offs: Uint32Array, size: number): Leaf {
    const l = new Leaf(blockNo, size);
    l.page = page;
    l.offs = offs;
    return l;
  }

  static unpacked(keys: Buffer[], vals: Buffer[]): Leaf {
    let size = PAGE_HEADER_SIZE;
    for (let i = 0; i < keys.length; i++) size += leafEntrySize(keys[i]!, vals[i]!);
    const l = new Leaf(DIRTY, size);
    l.keys = keys;
    l.vals = vals;
    return l;
  }

  get count(): number {
    return this.keys !== undefined ? this.keys.length : this.offs!.length;
  }

  /** Key i as a view (packed) or the stored buffer (unpacked); do not modify. */
  keyAt(i: number): Buffer {
    if (this.keys !== undefined) return this.keys[i]!;
    const page = this.page!;
    const off = this.offs![i]!;
    return page.subarray(off + 1, off + 1 + page[off]!);
  }

  valueAt(i: number): Buffer {
    if (this.vals !== undefined) return this.vals[i]!;
    const page = this.page!;
    const off = this.offs![i]!;
    const vOff = off + 1 + page[off]!;
    return page.subarray(vOff + 1, vOff + 1 + page[vOff]!);
  }

  /** Compare `key` with key i: negative if key sorts first. */
  compareKey(key: Buffer, i: number): number {
    if (this.keys !== undefined) return key.compare(this.keys[i]!);
    const page = this.page!;
    const off = this.offs![i]!;
    return key.compare(page, off + 1, off + 1 + page[off]!);
  }

  /** A dirty copy with its own entry arrays. */
  cloneDirty(): Leaf {
    const n = this.count;
    const keys = new Array<Buffer>(n);
    const vals = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) {
      keys[i] = this.keyAt(i);
      vals[i] = this.valueAt(i);
    }
    const l = new Leaf(DIRTY, this.size);
    l.keys = keys;
    l.vals = vals;
    return l;
  }
}

export class Parent {
  readonly leaf = false as const;
  blockNo: number;
  size: number;
  /** Height above the leaves: 1 when the children are leaves. */
  level: number;
  /** Separators: keys[i] is the least key of child i+1's subtree (n-1 of them). */
  keys: Buffer[];
  /** Block number of each child, or DIRTY when `kids[i]` holds a dirty node. */
  blocks: number[];
  /** Oldest leaf block below each child (meaningful for clean children). */
  oldest: number[];
  /** Dirty children (dirty parents only); undefined slots are clean. */
  kids: (Node | undefined)[] | undefined;

  constructor(blockNo: number, level: number, keys: Buffer[], blocks: number[], oldest: number[]) {
    this.blockNo = blockNo;
    this.level = level;
    this.keys = keys;
    this.blocks = blocks;
    this.oldest = oldest;
    this.kids = undefined;
    let size = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * blocks.length;
    for (const k of keys) size += separatorSize(k);
    this.size = size;
  }

  get count(): number {
    return this.blocks.length;
  }

  cloneDirty(): Parent {
    const p = new Parent(DIRTY, this.level, this.keys.slice(), this.blocks.slice(), this.oldest.slice());
    p.kids = new Array<Node | undefined>(this.blocks.length);
    return p;
  }
}

export type Node = Leaf | Parent;

export function assertNever(x: never): never {
  throw new BirchError('BIRCH_CORRUPT', `unexpected value ${String(x)}`);
}
