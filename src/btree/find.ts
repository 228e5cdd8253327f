/**
 * Searching within one node, and descending from a root to a leaf.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import { compareBytes } from './compare.js';
import type { Leaf, Node, Parent } from './node.js';

/**
 * Binary search of `key` in a leaf: the index of the key if present (found),
 * else the index it would be inserted at.
 */
export function leafSearch(leaf: Leaf, kb: Uint8Array, ks: number, ke: number): { found: boolean; index: number } {
  let lo = 0;
  let hi = leaf.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = leaf.compareKey(kb, ks, ke, mid);
    if (c === 0) return { found: true, index: mid };
    if (c > 0) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, index: lo };
}

/** Index of `key` in a leaf, or -1. The read path's variant: no allocation. */
export function leafFind(leaf: Leaf, kb: Uint8Array, ks: number, ke: number): number {
  let lo = 0;
  let hi = leaf.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = leaf.compareKey(kb, ks, ke, mid);
    if (c === 0) return mid;
    if (c > 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** Which child of `p` covers the key `kb[ks, ke)`: the number of separators <= key. */
export function childIndex(p: Parent, kb: Uint8Array, ks: number, ke: number): number {
  const offs = p.sepOffs;
  if (offs !== undefined) {
    // A clean parent: separators straight from its page.
    const page = p.page!;
    let lo = 0;
    let hi = offs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const off = offs[mid]!;
      if (compareBytes(kb, ks, ke, page, off + 1, off + 1 + page[off]!) >= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  const keys = p.keys;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const sep = keys[mid]!;
    if (compareBytes(kb, ks, ke, sep, 0, sep.length) >= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Child i of `p`: the dirty node it holds, or the clean node from the cache. */
export function childAt(cache: NodeCache, p: Parent, i: number): Node {
  return p.children?.[i] ?? cache.get(p.blocks[i]!);
}

/** The leaf whose key range covers the key `kb[ks, ke)`, without changing anything. */
export function findLeaf(cache: NodeCache, root: Node, kb: Uint8Array, ks: number, ke: number): Leaf {
  let n = root;
  while (!n.leaf) n = childAt(cache, n, childIndex(n, kb, ks, ke));
  return n;
}

/** Look `key` up in the tree under `root`; the value's bytes (a view), or undefined. */
export function lookup(cache: NodeCache, root: Node, kb: Uint8Array, ks: number, ke: number): Buffer | undefined {
  const leaf = findLeaf(cache, root, kb, ks, ke);
  const i = leafFind(leaf, kb, ks, ke);
  return i < 0 ? undefined : leaf.valueAt(i);
}

/** Look `key` up; the value as a new buffer of its own, or undefined. */
export function lookupCopy(cache: NodeCache, root: Node, key: Buffer): Buffer | undefined {
  const leaf = findLeaf(cache, root, key, 0, key.length);
  const i = leafFind(leaf, key, 0, key.length);
  return i < 0 ? undefined : leaf.valueCopy(i);
}
