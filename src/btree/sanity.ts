/**
 * Strict mode's in-memory check of a balanced working tree (kivaloo's
 * btree_sanity, bbolt's StrictMode): run after every rebalance, before the
 * commit is written, so that a bug is caught in the batch that made it, not
 * by a reader days later. It walks the dirty nodes (a clean node's contents
 * were checked when it was written) and, for each dirty parent, what it
 * says about its clean children; it fails with BIRCH_INTERNAL on the first
 * broken rule:
 *
 * - every dirty node's recorded size is the size of its contents, and fits
 *   in the node capacity;
 * - keys ascend strictly in every dirty leaf, separators in every dirty
 *   parent, and each lies within the bounds its ancestors' separators give
 *   it; so does the least and the greatest key under every clean child of a
 *   dirty parent (its separators are new, its contents are not);
 * - a dirty parent has one more child than separators, its dirty children
 *   are in its `children` and nowhere else, its children are one level below
 *   it, and each clean child's oldest-leaf pointer is that child's oldest
 *   leaf; no node but the root is empty; a root parent has two or more
 *   children;
 * - the merge rule (docs/DESIGN.md, "Relaxed balancing"): two adjacent
 *   children of a dirty parent would not fit in 2/3 of the node capacity if
 *   merged, when at least one of them is dirty or both are clean but were
 *   not adjacent in the committed tree (the batch removed what lay between
 *   them). Exempt are pairs at the seam of two merged parents: the
 *   balancer's merge sweep runs once per parent, before that parent is
 *   merged with a sibling, so the last child of the one and the first of the
 *   other, dirty or clean, are not looked at together. A pair is at such a
 *   seam when its two children hold keys that lay under two different
 *   committed nodes at the parent's level (the committed tree is the one the
 *   batch started from); clean pairs adjacent in the committed tree, already
 *   exempt before, stay exempt.
 *
 * @internal
 */
import { internalError } from '../errors.js';
import type { NodeCache } from './cache.js';
import { compareBytes } from './compare.js';
import { childIndex } from './find.js';
import { entrySizeAt, sortKeyEnd } from './entry.js';
import { CHILD_POINTER_SIZE, DIRTY, PAGE_HEADER_SIZE, separatorSize, type Node, type Parent } from './node.js';

/**
 * Check the balanced working tree under `root` (dirty) against every rule
 * above; `committed` is the root of the commit the batch started from.
 */
export function checkWorkingTree(cache: NodeCache, root: Node, nodeCapacity: number, committed: Node): void {
  const mergeLimit = Math.floor((2 * nodeCapacity) / 3);
  const fail = (where: string, why: string): never => {
    throw internalError(`strict mode: ${where}: ${why}`);
  };
  const within = (k: Uint8Array, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean =>
    (lo === undefined || compareBytes(k, 0, k.length, lo, 0, lo.length) >= 0) &&
    (hi === undefined || compareBytes(k, 0, k.length, hi, 0, hi.length) < 0);
  /** Child i of a parent: its dirty node, or the clean one from the cache. */
  const childOf = (p: Parent, i: number): Node => {
    const c = p.children?.[i];
    if (c !== undefined) return c;
    const b = p.blocks[i]!;
    return b >= 0 ? cache.get(b) : fail(`parent at level ${p.level}`, `child ${i} is dirty but missing`);
  };
  /** The least (or greatest) key under `n`, or undefined if the edge ends in an empty node. */
  const edgeKey = (n: Node, last: boolean): Buffer | undefined => {
    while (!n.leaf) {
      if (n.count === 0) return undefined;
      n = childOf(n, last ? n.count - 1 : 0);
    }
    return n.count === 0 ? undefined : n.keyAt(last ? n.count - 1 : 0);
  };
  /** The committed node at `level` whose key range holds `key`; undefined if the committed tree is lower. */
  const committedAt = (level: number, key: Buffer): Node | undefined => {
    let n = committed;
    while (!n.leaf && n.level > level) n = childOf(n, childIndex(n, key, 0, key.length));
    return (n.leaf ? 0 : n.level) === level ? n : undefined;
  };
  /** Whether the mergeable children c, d (i, i + 1) of parent p are exempt from the merge rule. */
  const exempt = (p: Parent, c: Node, d: Node): boolean => {
    const kc = edgeKey(c, true);
    const kd = edgeKey(d, false);
    if (kc === undefined || kd === undefined) return false;
    const oc = committedAt(p.level, kc);
    const od = committedAt(p.level, kd);
    // At the seam of two merged parents.
    if (oc !== undefined && od !== undefined && oc.blockNo !== od.blockNo) return true;
    if (c.blockNo === DIRTY || d.blockNo === DIRTY) return false;
    // Two clean children: exempt if they were adjacent already.
    if (oc === undefined || oc.leaf) return false;
    const j = oc.blocks.indexOf(c.blockNo);
    return j >= 0 && oc.blocks[j + 1] === d.blockNo;
  };

  const walk = (n: Node, lo: Uint8Array | undefined, hi: Uint8Array | undefined, isRoot: boolean, path: string): void => {
    if (n.blockNo !== DIRTY) return; // clean: checked when written (its bounds by its parent, below)
    if (n.size > nodeCapacity) fail(path, `node of ${n.size} bytes exceeds the node capacity ${nodeCapacity}`);
    if (!isRoot && n.count === 0) fail(path, 'empty node below the root');
    if (n.leaf) {
      // Keys compared where they lie (no views: this runs for every key a
      // batch dirties); once they ascend, the first and last bound them all.
      const count = n.count;
      let size = PAGE_HEADER_SIZE;
      let pb: Buffer | undefined;
      let po = 0;
      for (let i = 0; i < count; i++) {
        const b = n.bufAt(i);
        const o = n.offs[i]!;
        size += entrySizeAt(b, o);
        if (pb !== undefined && compareBytes(pb, po + 1, sortKeyEnd(pb, po), b, o + 1, sortKeyEnd(b, o)) >= 0) fail(path, `keys out of order at ${i}`);
        pb = b;
        po = o;
      }
      if (size !== n.size) fail(path, `leaf records ${n.size} bytes, its entries take ${size}`);
      if (count > 0 && !within(n.keyAt(0), lo, hi)) fail(path, `key 0 outside the bounds of its ancestors' separators`);
      if (count > 1 && !within(n.keyAt(count - 1), lo, hi)) fail(path, `key ${count - 1} outside the bounds of its ancestors' separators`);
      return;
    }
    const children = n.children;
    if (children === undefined) return fail(path, 'dirty parent without its children array');
    if (n.blocks.length !== n.keys.length + 1 || n.oldest.length !== n.blocks.length || children.length !== n.blocks.length) {
      fail(path, `${n.blocks.length} children, ${n.keys.length} separators, ${children.length} child slots`);
    }
    if (isRoot && n.count < 2) fail(path, 'root parent with fewer than two children');
    let size = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * n.blocks.length;
    const seps = n.keys.length;
    for (let i = 0; i < seps; i++) {
      const k = n.keys[i]!;
      size += separatorSize(k);
      if (i > 0) {
        const p = n.keys[i - 1]!;
        if (compareBytes(p, 0, p.length, k, 0, k.length) >= 0) fail(path, `separators out of order at ${i}`);
      }
    }
    // Ascending: the first and the last bound them all.
    if (seps > 0 && !within(n.keys[0]!, lo, hi)) fail(path, `separator 0 outside the bounds of its ancestors' separators`);
    if (seps > 1 && !within(n.keys[seps - 1]!, lo, hi)) fail(path, `separator ${seps - 1} outside the bounds of its ancestors' separators`);
    if (size !== n.size) fail(path, `parent records ${n.size} bytes, its contents take ${size}`);
    for (let i = 0; i < n.count; i++) {
      const kid = children[i];
      if ((kid === undefined) !== (n.blocks[i] !== DIRTY)) fail(path, `child ${i} is dirty in one field and clean in the other`);
      if (kid !== undefined && kid.blockNo !== DIRTY) fail(path, `child ${i} holds the clean node of block ${kid.blockNo} as a dirty child`);
      const c = childOf(n, i);
      const level = c.leaf ? 0 : c.level;
      if (level !== n.level - 1) fail(path, `child ${i} at level ${level} under a parent at level ${n.level}`);
      const clo = i > 0 ? n.keys[i - 1] : lo;
      const chi = i < n.keys.length ? n.keys[i] : hi;
      if (kid === undefined) {
        // A clean child: its contents were checked when written, its place here is new.
        const first = edgeKey(c, false);
        const last = edgeKey(c, true);
        if (first === undefined || last === undefined) fail(`${path}/${i}`, 'empty node below the root');
        if (!within(first!, clo, chi) || !within(last!, clo, chi)) {
          fail(`${path}/${i}`, `clean child (block ${c.blockNo}) holds keys outside the bounds of its ancestors' separators`);
        }
        let oldest = c.leaf ? c.blockNo : Infinity;
        if (!c.leaf) for (const o of c.oldest) if (o < oldest) oldest = o;
        if (n.oldest[i] !== oldest) fail(path, `oldest-leaf pointer of clean child ${i} is ${n.oldest[i]}, its oldest leaf is ${oldest}`);
      }
      if (i + 1 < n.count) {
        const d = childOf(n, i + 1);
        const merged = c.leaf ? c.size + d.size - PAGE_HEADER_SIZE : c.size + d.size - PAGE_HEADER_SIZE + separatorSize(n.keys[i]!);
        // An empty child is reported as such when it is walked.
        if (merged <= mergeLimit && c.count > 0 && d.count > 0 && !exempt(n, c, d)) {
          fail(path, `children ${i} and ${i + 1} would merge into ${merged} bytes, within 2/3 of a node (${mergeLimit})`);
        }
      }
      walk(c, clo, chi, false, `${path}/${i}`);
    }
  };
  walk(root, undefined, undefined, true, 'root');
}
