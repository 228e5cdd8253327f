/**
 * Finding the oldest leaves, for the cleaner (kivaloo's btree_cleaning).
 *
 * Every child pointer records the oldest leaf block below it, so the leaves
 * in order of age are found best-first: a priority queue of subtrees keyed by
 * their oldest leaf; popping a parent pushes its children. Returns the first
 * key of each of the `n` oldest leaves: dirtying the leaf that covers that key
 * makes the next commit rewrite it at the head of the log.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import type { Commit } from './commit.js';

interface Item {
  oldest: number;
  block: number;
}

export function collectOldestLeaves(cache: NodeCache, commit: Commit, n: number, below = Infinity): Buffer[] {
  const out: Buffer[] = [];
  const root = commit.root;
  if (root.blockNo < 0 || n <= 0) return out;
  const heap: Item[] = [];
  const push = (it: Item): void => {
    heap.push(it);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]!.oldest <= it.oldest) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = it;
  };
  const pop = (): Item | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r]!.oldest < heap[l]!.oldest ? r : l;
        if (heap[c]!.oldest >= last.oldest) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  push({ oldest: commit.oldest, block: root.blockNo });
  while (out.length < n) {
    const it = pop();
    if (it === undefined || it.oldest >= below) break;
    const node = it.block === root.blockNo ? root : cache.get(it.block);
    if (node.leaf) {
      // Any key the leaf covers leads to it; an empty leaf can only be the root.
      out.push(node.count > 0 ? Buffer.from(node.keyAt(0)) : Buffer.alloc(0));
      continue;
    }
    for (let i = 0; i < node.count; i++) push({ oldest: node.oldest[i]!, block: node.blocks[i]! });
  }
  return out;
}
