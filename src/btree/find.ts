/**
 * Searching within one node, and descending from a root to a leaf.
 *
 * Clean nodes are searched through their key heads (heads.ts): the search
 * key's bytes are compared with the node's shared prefix once, then the
 * binary search compares u32 heads and reads key bytes only on a tie.
 * Dirty nodes (a batch's working copies) are searched byte by byte.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import { compareBytes } from './compare.js';
import { FLAG_DEADLINE, expiredAt } from './entry.js';
import { headAt } from './heads.js';
import type { Leaf, Node, Parent } from './node.js';

/**
 * Binary search of the key `kb[ks, ke)` in a leaf: its index if present, else
 * -(the index it would be inserted at) - 1. No allocation.
 */
export function leafSearch(leaf: Leaf, kb: Uint8Array, ks: number, ke: number): number {
  const heads = leaf.heads;
  if (heads !== undefined) return cleanLeafSearch(leaf, heads, kb, ks, ke);
  let hi = leaf.count;
  // Keys arriving in order (a load, an append) land past the last key: one comparison.
  if (hi > 0) {
    const c = leaf.compareKey(kb, ks, ke, hi - 1);
    if (c > 0) return -hi - 1;
    if (c === 0) return hi - 1;
    hi--;
  }
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = leaf.compareKey(kb, ks, ke, mid);
    if (c === 0) return mid;
    if (c > 0) lo = mid + 1;
    else hi = mid;
  }
  return -lo - 1;
}

function cleanLeafSearch(leaf: Leaf, heads: Uint32Array, kb: Uint8Array, ks: number, ke: number): number {
  const n = heads.length;
  if (n === 0) return -1;
  const page = leaf.page!;
  const offs = leaf.offs as Uint32Array;
  const prefix = leaf.prefix;
  // The shared prefix, compared once: a key that leaves it sorts before or after every key here.
  const first = offs[0]! + 1;
  for (let j = 0; j < prefix; j++) {
    if (ks + j >= ke) return -1; // a proper prefix of every key: before them all
    const d = kb[ks + j]! - page[first + j]!;
    if (d !== 0) return d < 0 ? -1 : -n - 1;
  }
  const h = headAt(kb, ks + prefix, ke);
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const hm = heads[mid]!;
    if (h > hm) lo = mid + 1;
    else if (h < hm) hi = mid;
    else {
      const off = offs[mid]!;
      const c = compareBytes(kb, ks + prefix, ke, page, off + 1 + prefix, off + 2 + page[off]!);
      if (c === 0) return mid;
      if (c > 0) lo = mid + 1;
      else hi = mid;
    }
  }
  return -lo - 1;
}

/** Which child of `p` covers the key `kb[ks, ke)`: the number of separators <= key. */
export function childIndex(p: Parent, kb: Uint8Array, ks: number, ke: number): number {
  const heads = p.heads;
  if (heads !== undefined) {
    // A clean parent: separators straight from its page, through their heads.
    const n = heads.length;
    if (n === 0) return 0;
    const page = p.page!;
    const offs = p.sepOffs!;
    const prefix = p.prefix;
    const first = offs[0]! + 1;
    for (let j = 0; j < prefix; j++) {
      if (ks + j >= ke) return 0; // a proper prefix of every separator: before them all
      const d = kb[ks + j]! - page[first + j]!;
      if (d !== 0) return d < 0 ? 0 : n;
    }
    const h = headAt(kb, ks + prefix, ke);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const hm = heads[mid]!;
      if (h > hm) lo = mid + 1;
      else if (h < hm) hi = mid;
      else {
        const off = offs[mid]!;
        if (compareBytes(kb, ks + prefix, ke, page, off + 1 + prefix, off + 2 + page[off]!) >= 0) lo = mid + 1;
        else hi = mid;
      }
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

/**
 * Child i of `p`: the dirty node it holds, or the clean node, through the
 * parent's reference when it has one (a cached clean parent), else from the
 * cache, which the reference then remembers.
 */
export function childAt(cache: NodeCache, p: Parent, i: number): Node {
  const dirty = p.children;
  if (dirty !== undefined) {
    const c = dirty[i];
    if (c !== undefined) return c;
    return cache.get(p.blocks[i]!);
  }
  const refs = p.childRefs;
  if (refs === undefined) return cache.get(p.blocks[i]!);
  let c = refs[i];
  if (c !== undefined) {
    c.ref = true;
    cache.hits++;
    return c;
  }
  c = cache.get(p.blocks[i]!);
  // get() may have evicted p itself (its refs are gone then): refer only from a cached parent.
  if (p.childRefs === refs && c.owner === undefined) {
    refs[i] = c;
    c.owner = p;
    c.ownerSlot = i;
  }
  return c;
}

/** The leaf whose key range covers the key `kb[ks, ke)`, without changing anything. */
export function findLeaf(cache: NodeCache, root: Node, kb: Uint8Array, ks: number, ke: number): Leaf {
  let n = root;
  n.ref = true; // the root is never looked up in the cache: keep it from looking unused
  while (!n.leaf) n = childAt(cache, n, childIndex(n, kb, ks, ke));
  return n;
}

/** The leaf findLive() searched last (module state: lookups allocate nothing). */
let liveLeaf: Leaf | undefined;

/**
 * The index of the live entry of the sort key `kb[ks, ke)` in the leaf it
 * belongs to (left in `liveLeaf`), or -1: absent, or its deadline is at or
 * before `now()` (read only for entries that have one).
 */
function findLive(cache: NodeCache, root: Node, kb: Uint8Array, ks: number, ke: number, now: () => number): number {
  const leaf = findLeaf(cache, root, kb, ks, ke);
  liveLeaf = leaf;
  const i = leafSearch(leaf, kb, ks, ke);
  if (i < 0) return -1;
  const b = leaf.bufAt(i);
  const off = leaf.offs[i]!;
  if ((b[off + 2 + b[off]!]! & FLAG_DEADLINE) !== 0 && expiredAt(b, off, now())) return -1;
  return i;
}

/** Look the sort key `kb[ks, ke)` up in the tree under `root`: its leaf and index, or undefined (absent or expired). */
export function lookupLive(cache: NodeCache, root: Node, kb: Uint8Array, ks: number, ke: number, now: () => number): { leaf: Leaf; index: number } | undefined {
  const i = findLive(cache, root, kb, ks, ke, now);
  return i < 0 ? undefined : { leaf: liveLeaf!, index: i };
}

/** Look the sort key `kb[ks, ke)` up; its live value as a new buffer of its own, or undefined. */
export function lookupCopy(cache: NodeCache, root: Node, kb: Uint8Array, ks: number, ke: number, now: () => number): Buffer | undefined {
  const i = findLive(cache, root, kb, ks, ke, now);
  return i < 0 ? undefined : liveLeaf!.valueCopy(i);
}
