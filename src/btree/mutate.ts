/**
 * The working tree of one batch: copy-on-write modification of the
 * committed tree.
 *
 * The batch starts from the committed root. Changing a key copies ("dirties")
 * the leaf that holds it and every ancestor up to the root, unless they are
 * dirty already; the committed nodes are never touched, so readers keep
 * reading them until the batch is durable. Operations apply in the order
 * they were issued, and a conditional operation sees the effect of those
 * before it in the same batch.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import { childAt, childIndex, leafSearch, lookup } from './find.js';
import { DIRTY, entrySizeAt, makeEntry, type Leaf, type Node } from './node.js';

export type Op =
  | { t: 'put'; key: Buffer; value: Buffer }
  | { t: 'del'; key: Buffer }
  | { t: 'add'; key: Buffer; value: Buffer }
  | { t: 'modify'; key: Buffer; value: Buffer }
  | { t: 'cas'; key: Buffer; expected: Buffer; value: Buffer }
  | { t: 'cad'; key: Buffer; expected: Buffer };

export class WorkingTree {
  root: Node;
  /** Change in the number of keys made by this batch. */
  keysDelta = 0;
  /** Number of nodes dirtied (0: nothing to write). */
  dirtied = 0;
  /** Block numbers of the clean leaves this batch copies (and so rewrites). */
  readonly rewritten: number[] = [];

  constructor(
    private readonly cache: NodeCache,
    committedRoot: Node,
  ) {
    this.root = committedRoot;
  }

  /** The current value of `key` in this batch's view (a view; do not keep). */
  get(key: Buffer): Buffer | undefined {
    return lookup(this.cache, this.root, key);
  }

  /** Apply one operation; returns whether it took effect (put: always). */
  apply(op: Op): boolean {
    switch (op.t) {
      case 'put':
        this.put(op.key, op.value);
        return true;
      case 'del':
        return this.del(op.key);
      case 'add':
        if (this.get(op.key) !== undefined) return false;
        this.put(op.key, op.value);
        return true;
      case 'modify':
        if (this.get(op.key) === undefined) return false;
        this.put(op.key, op.value);
        return true;
      case 'cas': {
        const cur = this.get(op.key);
        if (cur === undefined || !cur.equals(op.expected)) return false;
        this.put(op.key, op.value);
        return true;
      }
      case 'cad': {
        const cur = this.get(op.key);
        if (cur === undefined || !cur.equals(op.expected)) return false;
        return this.del(op.key);
      }
    }
  }

  put(key: Buffer, value: Buffer): void {
    const leaf = this.dirtyLeafFor(key);
    const bufs = leaf.bufs!;
    const offs = leaf.offs as number[];
    const entry = makeEntry(key, value);
    const { found, index } = leafSearch(leaf, key);
    if (found) {
      leaf.size += entry.length - leaf.entrySize(index);
      bufs[index] = entry;
      offs[index] = 0;
    } else {
      if (index === bufs.length) {
        bufs.push(entry);
        offs.push(0);
      } else {
        bufs.splice(index, 0, entry);
        offs.splice(index, 0, 0);
      }
      leaf.size += entry.length;
      this.keysDelta++;
    }
  }

  del(key: Buffer): boolean {
    if (this.get(key) === undefined) return false;
    const leaf = this.dirtyLeafFor(key);
    const { index } = leafSearch(leaf, key);
    leaf.size -= entrySizeAt(leaf.bufs![index]!, leaf.offs[index]!);
    leaf.bufs!.splice(index, 1);
    (leaf.offs as number[]).splice(index, 1);
    this.keysDelta--;
    return true;
  }

  /** Dirty the leaf covering `key` (the cleaner uses this to rewrite old leaves). */
  touch(key: Buffer): void {
    this.dirtyLeafFor(key);
  }

  /** The dirty leaf covering `key`, copying it and its ancestors as needed. */
  private dirtyLeafFor(key: Buffer): Leaf {
    if (this.root.blockNo !== DIRTY) {
      if (this.root.leaf && this.root.blockNo >= 0) this.rewritten.push(this.root.blockNo);
      this.root = this.root.cloneDirty();
      this.dirtied++;
    }
    let n = this.root;
    while (!n.leaf) {
      const i = childIndex(n, key);
      let c = n.kids![i];
      if (c === undefined) {
        const clean = childAt(this.cache, n, i);
        if (clean.leaf) this.rewritten.push(clean.blockNo);
        c = clean.cloneDirty();
        n.kids![i] = c;
        n.blocks[i] = DIRTY;
        this.dirtied++;
      }
      n = c;
    }
    return n;
  }
}
