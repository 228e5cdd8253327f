/**
 * Rebalancing, once per batch (kivaloo's relaxed balancing):
 *
 * 1. split pass: every dirty node whose page would not fit in `cap` bytes is
 *    cut into the fewest pieces of near-equal size that each fit;
 * 2. merge pass: two adjacent siblings, at least one of them dirty (or made
 *    adjacent by this batch removing the node between them), are merged if
 *    the merged page would be at most 2/3 of `cap`, and empty nodes are
 *    removed; so any two adjacent siblings, merged, exceed 2/3 of a page;
 * 3. the root: grown by a new parent while it has more than one piece, and
 *    shrunk while it is a parent with a single child.
 *
 * A parent may be small and need only have one child; every node's page fits
 * in a block. Splitting always succeeds because one more pair or separator
 * fits in a third of a page (see serialize.ts).
 *
 * @internal
 */
import { internalError } from '../errors.js';
import type { NodeCache } from './cache.js';
import type { Slicer } from './slice.js';
import { shortSeparator } from './compare.js';
import {
  CHILD_POINTER_SIZE,
  DIRTY,
  Leaf,
  PAGE_HEADER_SIZE,
  Parent,
  separatorSize,
  type Node,
} from './node.js';

export interface BalanceResult {
  root: Node;
  /** Change in the number of pages in the tree. */
  pagesDelta: number;
}

export class Balancer {
  private pagesDelta = 0;
  private readonly mergeLimit: number;
  /** Clean children that became adjacent when a node between them was removed. */
  private readonly recheck = new Set<number>();

  /**
   * @param nodesReplaced receives the block numbers of clean nodes the
   *   rebalance replaces (merged away, or copied to be changed).
   */
  constructor(
    private readonly cache: NodeCache,
    private readonly cap: number,
    private readonly nodesReplaced: number[],
  ) {
    this.mergeLimit = Math.floor((2 * cap) / 3);
  }

  /** Rebalance the dirty tree under `root` (itself dirty). */
  run(root: Node): BalanceResult {
    const { pieces, seps } = this.balance(root);
    return this.finish(root, pieces, seps);
  }

  /**
   * run(), yielding the event loop between the subtrees of parents two or
   * more levels up once `slicer` says a slice is used up (slice.ts).
   */
  async runSliced(root: Node, slicer: Slicer): Promise<BalanceResult> {
    const { pieces, seps } = await this.balanceSliced(root, slicer);
    return this.finish(root, pieces, seps);
  }

  /** Grow or shrink the root until one node holds all of `pieces`. */
  private finish(root: Node, pieces: Node[], seps: Buffer[]): BalanceResult {
    let level = root.leaf ? 0 : root.level;
    if (pieces.length === 0) {
      pieces = [Leaf.empty()];
      seps = [];
      this.pagesDelta++;
    }
    // Grow: a new root above the pieces, until one node holds them all.
    while (pieces.length > 1) {
      level++;
      const p = new Parent(DIRTY, level, seps, pieces.map(() => DIRTY), pieces.map(() => DIRTY));
      p.children = pieces.slice();
      this.pagesDelta++;
      ({ pieces, seps } = this.split(p));
    }
    let top = pieces[0]!;
    // Shrink: a parent with one child is replaced by that child.
    while (!top.leaf && top.count === 1) {
      top = this.dirtyChild(top, 0);
      this.pagesDelta--;
    }
    return { root: top, pagesDelta: this.pagesDelta };
  }

  /** Balance the subtree of dirty `node`; returns its replacement pieces. */
  private balance(node: Node): { pieces: Node[]; seps: Buffer[] } {
    if (node.leaf) {
      if (node.count === 0) {
        this.pagesDelta--;
        return { pieces: [], seps: [] };
      }
      return node.size > this.cap ? this.split(node) : { pieces: [node], seps: [] };
    }
    // Children first (from the right, so splicing keeps indices valid).
    const children = node.children!;
    for (let i = children.length - 1; i >= 0; i--) {
      const kid = children[i];
      if (kid === undefined) continue;
      const { pieces, seps } = this.balance(kid);
      this.replaceChild(node, i, pieces, seps);
    }
    return this.afterChildren(node);
  }

  private async balanceSliced(node: Node, slicer: Slicer): Promise<{ pieces: Node[]; seps: Buffer[] }> {
    if (node.leaf || node.level < 2) return this.balance(node);
    const children = node.children!;
    for (let i = children.length - 1; i >= 0; i--) {
      const kid = children[i];
      if (kid === undefined) continue;
      const { pieces, seps } = await this.balanceSliced(kid, slicer);
      this.replaceChild(node, i, pieces, seps);
      await slicer.maybeYield();
    }
    return this.afterChildren(node);
  }

  /** A parent whose children are balanced: merge them, then split it if it grew too big. */
  private afterChildren(node: Parent): { pieces: Node[]; seps: Buffer[] } {
    this.mergePass(node);
    if (node.count === 0) {
      this.pagesDelta--;
      return { pieces: [], seps: [] };
    }
    return node.size > this.cap ? this.split(node) : { pieces: [node], seps: [] };
  }

  /** Put `pieces` (with separators `seps` between them) where child i was. */
  private replaceChild(p: Parent, i: number, pieces: Node[], seps: Buffer[]): void {
    if (pieces.length === 1 && pieces[0] === p.children![i]) return;
    const n = pieces.length;
    if (n === 0) {
      // Drop child i and one separator next to it: its neighbour takes its range.
      const sepIndex = i > 0 ? i - 1 : 0;
      if (p.keys.length > 0) p.ownKeys().splice(sepIndex, 1);
      // Its neighbours are now adjacent: the merge pass must look at them
      // even if both are clean.
      if (i > 0 && p.blocks[i - 1] !== DIRTY) this.recheck.add(p.blocks[i - 1]!);
      if (i + 1 < p.blocks.length && p.blocks[i + 1] !== DIRTY) this.recheck.add(p.blocks[i + 1]!);
    } else {
      p.ownKeys().splice(i, 0, ...seps);
    }
    p.children!.splice(i, 1, ...pieces);
    p.blocks.splice(i, 1, ...pieces.map(() => DIRTY));
    p.oldest.splice(i, 1, ...pieces.map(() => DIRTY));
    recomputeParentSize(p);
  }

  /** Merge adjacent children (one of them dirty) whose merge fits in 2/3 of a page. */
  private mergePass(p: Parent): void {
    let i = 0;
    while (i + 1 < p.count) {
      const a = p.children![i];
      const b = p.children![i + 1];
      if (a === undefined && b === undefined && !this.recheck.has(p.blocks[i]!) && !this.recheck.has(p.blocks[i + 1]!)) {
        i++;
        continue;
      }
      const left = a ?? this.cache.get(p.blocks[i]!);
      const right = b ?? this.cache.get(p.blocks[i + 1]!);
      const merged = left.leaf
        ? left.size + right.size - PAGE_HEADER_SIZE
        : left.size + right.size - PAGE_HEADER_SIZE + 1 + p.separatorLength(i);
      if (merged > this.mergeLimit && left.count > 0 && right.count > 0) {
        i++;
        continue;
      }
      const l = this.dirtyChild(p, i);
      if (right.blockNo !== DIRTY) this.nodesReplaced.push(right.blockNo);
      const r = right.blockNo === DIRTY ? right : right.cloneDirty();
      if (l.leaf && r.leaf) {
        l.mutable();
        for (let j = 0; j < r.count; j++) {
          l.bufs!.push(r.bufAt(j));
          (l.offs as number[]).push(r.offs[j]!);
        }
        l.size += r.size - PAGE_HEADER_SIZE;
      } else if (!l.leaf && !r.leaf) {
        l.ownKeys().push(p.keys[i]!, ...r.keys);
        l.blocks.push(...r.blocks);
        l.oldest.push(...r.oldest);
        l.children!.push(...r.children!);
        recomputeParentSize(l);
      } else {
        throw internalError('siblings of different kinds');
      }
      p.ownKeys().splice(i, 1);
      p.children!.splice(i + 1, 1);
      p.blocks.splice(i + 1, 1);
      p.oldest.splice(i + 1, 1);
      recomputeParentSize(p);
      this.pagesDelta--;
      // Stay at i: the merged node may merge with the next one too.
    }
  }

  /** Child i of dirty parent p, made dirty if it was clean. */
  private dirtyChild(p: Parent, i: number): Node {
    let c = p.children![i];
    if (c === undefined) {
      this.nodesReplaced.push(p.blocks[i]!);
      c = this.cache.get(p.blocks[i]!).cloneDirty();
      p.children![i] = c;
      p.blocks[i] = DIRTY;
    }
    return c;
  }

  /**
   * Cut an oversized dirty node into near-equal pieces that each fit: while
   * what is left needs k > 1 pieces, take entries up to (left / k) bytes;
   * the rest, once it fits, is the last piece.
   */
  private split(node: Node): { pieces: Node[]; seps: Buffer[] } {
    if (node.size <= this.cap) return { pieces: [node], seps: [] };
    const room = this.cap - PAGE_HEADER_SIZE;
    const pieces: Node[] = [];
    const seps: Buffer[] = [];
    let left = node.size - PAGE_HEADER_SIZE;
    let start = 0;
    if (node.leaf) {
      node.mutable();
      const bufs = node.bufs!;
      const offs = node.offs as number[];
      const n = bufs.length;
      while (start < n) {
        const k = Math.ceil(left / room);
        const target = k <= 1 ? Infinity : left / k;
        let acc = 0;
        let end = start;
        while (end < n) {
          const s = node.entrySize(end);
          if (end > start && acc + s > target) break;
          acc += s;
          end++;
        }
        if (start > 0) seps.push(shortSeparator(node.keyAt(start - 1), node.keyAt(start)));
        const piece = new Leaf(DIRTY, PAGE_HEADER_SIZE + acc, undefined, bufs.slice(start, end), offs.slice(start, end));
        pieces.push(piece);
        left -= acc;
        start = end;
      }
    } else {
      const n = node.count;
      // Entry j: its child pointer and the separator before it (none for j = 0).
      const entry = (j: number): number => CHILD_POINTER_SIZE + (j > 0 ? separatorSize(node.keys[j - 1]!) : 0);
      while (start < n) {
        const k = Math.ceil(left / room);
        const target = k <= 1 ? Infinity : left / k;
        // A piece's first separator moves up to the parent: count the pointer only.
        let acc = CHILD_POINTER_SIZE;
        let end = start + 1;
        while (end < n) {
          const s = entry(end);
          if (acc + s > target) break;
          acc += s;
          end++;
        }
        if (start > 0) seps.push(node.keys[start - 1]!);
        const p = new Parent(
          DIRTY,
          node.level,
          node.keys.slice(start, end - 1),
          node.blocks.slice(start, end),
          node.oldest.slice(start, end),
        );
        p.children = node.children!.slice(start, end);
        pieces.push(p);
        left -= entry(start) + (acc - CHILD_POINTER_SIZE);
        start = end;
      }
    }
    this.pagesDelta += pieces.length - 1;
    return { pieces, seps };
  }
}

export function recomputeParentSize(p: Parent): void {
  let size = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * p.blocks.length;
  for (const k of p.keys) size += separatorSize(k);
  p.size = size;
}
