/**
 * Strict mode's in-memory check of a balanced working tree (kivaloo's
 * btree_sanity, bbolt's StrictMode): run after every rebalance, before the
 * commit is written, so that a bug is caught in the batch that made it, not
 * by a reader days later. It walks the dirty nodes (clean ones were checked
 * when they were written) and fails with BIRCH_INTERNAL on the first broken
 * rule:
 *
 * - every node's recorded size is the size of its contents, and fits in the
 *   node capacity;
 * - keys ascend strictly in every leaf, separators in every parent, and each
 *   lies within the bounds its ancestors' separators give it;
 * - a parent has one more child than separators; its children are one level
 *   below it; no node but the root is empty; a root parent has two or more
 *   children;
 * - the merge rule: two adjacent children of which at least one is dirty
 *   would not fit in 2/3 of the node capacity if merged (docs/DESIGN.md,
 *   "Relaxed balancing", says why pairs of clean children are exempt).
 *
 * @internal
 */
import { internalError } from '../errors.js';
import type { NodeCache } from './cache.js';
import { compareBytes } from './compare.js';
import { CHILD_POINTER_SIZE, DIRTY, PAGE_HEADER_SIZE, entrySizeAt, separatorSize, type Node } from './node.js';

export function checkWorkingTree(cache: NodeCache, root: Node, nodeCapacity: number): void {
  const mergeLimit = Math.floor((2 * nodeCapacity) / 3);
  const fail = (where: string, why: string): never => {
    throw internalError(`strict mode: ${where}: ${why}`);
  };
  const within = (k: Uint8Array, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean =>
    (lo === undefined || compareBytes(k, 0, k.length, lo, 0, lo.length) >= 0) &&
    (hi === undefined || compareBytes(k, 0, k.length, hi, 0, hi.length) < 0);

  const walk = (n: Node, lo: Uint8Array | undefined, hi: Uint8Array | undefined, isRoot: boolean, path: string): void => {
    if (n.blockNo !== DIRTY) return; // clean: checked when written
    if (n.size > nodeCapacity) fail(path, `node of ${n.size} bytes exceeds the node capacity ${nodeCapacity}`);
    if (!isRoot && n.count === 0) fail(path, 'empty node below the root');
    if (n.leaf) {
      let size = PAGE_HEADER_SIZE;
      let prev: Buffer | undefined;
      for (let i = 0; i < n.count; i++) {
        size += entrySizeAt(n.bufAt(i), n.offs[i]!);
        const k = n.keyAt(i);
        if (prev !== undefined && compareBytes(prev, 0, prev.length, k, 0, k.length) >= 0) fail(path, `keys out of order at ${i}`);
        if (!within(k, lo, hi)) fail(path, `key ${i} outside the bounds of its ancestors' separators`);
        prev = k;
      }
      if (size !== n.size) fail(path, `leaf records ${n.size} bytes, its entries take ${size}`);
      return;
    }
    const children = n.children;
    if (children === undefined) return fail(path, 'dirty parent without its children array');
    if (n.blocks.length !== n.keys.length + 1 || n.oldest.length !== n.blocks.length || children.length !== n.blocks.length) {
      fail(path, `${n.blocks.length} children, ${n.keys.length} separators, ${children.length} child slots`);
    }
    if (isRoot && n.count < 2) fail(path, 'root parent with fewer than two children');
    let size = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * n.blocks.length;
    for (let i = 0; i < n.keys.length; i++) {
      const k = n.keys[i]!;
      size += separatorSize(k);
      if (i > 0) {
        const p = n.keys[i - 1]!;
        if (compareBytes(p, 0, p.length, k, 0, k.length) >= 0) fail(path, `separators out of order at ${i}`);
      }
      if (!within(k, lo, hi)) fail(path, `separator ${i} outside the bounds of its ancestors' separators`);
    }
    if (size !== n.size) fail(path, `parent records ${n.size} bytes, its contents take ${size}`);
    const child = (i: number): Node => children[i] ?? cache.get(n.blocks[i]!);
    for (let i = 0; i < n.count; i++) {
      const c = child(i);
      if ((children[i] === undefined) !== (n.blocks[i] !== DIRTY)) fail(path, `child ${i} is dirty in one field and clean in the other`);
      const level = c.leaf ? 0 : c.level;
      if (level !== n.level - 1) fail(path, `child ${i} at level ${level} under a parent at level ${n.level}`);
      if (i + 1 < n.count && (children[i] !== undefined || children[i + 1] !== undefined)) {
        const d = child(i + 1);
        const merged = c.leaf ? c.size + d.size - PAGE_HEADER_SIZE : c.size + d.size - PAGE_HEADER_SIZE + separatorSize(n.keys[i]!);
        if (merged <= mergeLimit) fail(path, `children ${i} and ${i + 1} would merge into ${merged} bytes, within 2/3 of a node (${mergeLimit})`);
      }
      walk(c, i > 0 ? n.keys[i - 1] : lo, i < n.keys.length ? n.keys[i] : hi, false, `${path}/${i}`);
    }
  };
  walk(root, undefined, undefined, true, 'root');
}
