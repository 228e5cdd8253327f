/**
 * Finding the oldest leaves, for the cleaner (kivaloo's btree_cleaning).
 *
 * Every child pointer records the oldest leaf block below it, so the leaves
 * in order of age are found best-first: a priority queue of subtrees keyed by
 * their oldest leaf; popping a parent pushes its children. `next` is the
 * oldest leaf block not yet taken, which becomes the tree's oldest once the
 * leaves taken so far are rewritten; `take()` returns the first key of that
 * leaf (dirtying the leaf that covers it makes the next commit rewrite it at
 * the head of the log). Work is proportional to the leaves taken.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import type { Commit } from './commit.js';

interface Item {
  oldest: number;
  block: number;
}

export class OldestLeaves {
  private readonly heap: Item[] = [];
  private readonly cache: NodeCache;
  private readonly commit: Commit;

  constructor(cache: NodeCache, commit: Commit) {
    this.cache = cache;
    this.commit = commit;
    if (commit.root.blockNo >= 0) this.heap.push({ oldest: commit.oldest, block: commit.root.blockNo });
  }

  /** Oldest leaf block not yet taken; Infinity when every leaf was taken. */
  get next(): number {
    return this.heap[0]?.oldest ?? Infinity;
  }

  /** The first key of the oldest leaf not yet taken (empty for an empty root leaf). */
  take(): Buffer | undefined {
    const root = this.commit.root;
    for (;;) {
      const it = this.pop();
      if (it === undefined) return undefined;
      const node = it.block === root.blockNo ? root : this.cache.get(it.block);
      // Any key the leaf covers leads to it; an empty leaf can only be the root.
      if (node.leaf) return node.count > 0 ? Buffer.from(node.keyAt(0)) : Buffer.alloc(0);
      for (let i = 0; i < node.count; i++) this.push({ oldest: node.oldest[i]!, block: node.blocks[i]! });
    }
  }

  private push(it: Item): void {
    const heap = this.heap;
    heap.push(it);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]!.oldest <= it.oldest) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = it;
  }

  private pop(): Item | undefined {
    const heap = this.heap;
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
  }
}
