/**
 * Range iteration over one committed tree: lazy, synchronous, in either
 * direction. The iterator walks immutable clean nodes only, so it sees one
 * consistent commit however long it is held; the layer above pins that
 * commit's blocks against freeing until `onDone` runs.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import { compareBytes } from './compare.js';
import { FLAG_DEADLINE, expiredAt, sortKeyEnd } from './entry.js';
import { childAt, childIndex, leafSearch } from './find.js';
import type { Leaf, Node, Parent } from './node.js';

export interface Bound {
  key: Buffer;
  inclusive: boolean;
}

/**
 * What an iterator makes of each entry: `b` holds the entry at `off` (its
 * sort key is `b[off + 1, sortKeyEnd(b, off))`, its value at
 * `valueStart(b, off)`: entry.ts). `b` is a page or a batch's buffer: read
 * it, copy what is kept, never keep `b` itself.
 */
export type MakeEntry<T> = (b: Buffer, off: number) => T;

export class RangeIterator<T> implements IterableIterator<T> {
  private readonly stack: { node: Parent; idx: number }[] = [];
  private leaf: Leaf | undefined;
  private pos = 0;
  /** Whether every entry of the current leaf is inside the far bound (checked once per leaf, not per entry). */
  private leafInside = false;
  private remaining: number;
  private finished = false;

  constructor(
    private readonly cache: NodeCache,
    root: Node,
    private readonly lo: Bound | undefined,
    private readonly hi: Bound | undefined,
    private readonly reverse: boolean,
    limit: number,
    private readonly make: MakeEntry<T>,
    private readonly onDone: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.remaining = limit;
    if (limit <= 0 || (lo !== undefined && hi !== undefined && emptyInterval(lo, hi))) {
      this.finish();
      return;
    }
    this.descend(root, reverse ? hi : lo);
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<T> {
    if (this.finished) return { done: true, value: undefined };
    for (;;) {
      const leaf = this.leaf!;
      if (this.reverse ? this.pos < 0 : this.pos >= leaf.count) {
        if (!this.step()) return this.done();
        continue;
      }
      const i = this.pos;
      const b = leaf.bufAt(i);
      const off = leaf.offs[i]!;
      if (this.reverse) {
        if (!this.leafInside && !this.inside(this.lo, b, off, -1)) return this.done();
        this.pos--;
      } else {
        if (!this.leafInside && !this.inside(this.hi, b, off, 1)) return this.done();
        this.pos++;
      }
      // An entry whose deadline passed is invisible (the clock read only for entries that have one).
      if ((b[off + 2 + b[off]!]! & FLAG_DEADLINE) !== 0 && expiredAt(b, off, this.now())) continue;
      const value = this.make(b, off);
      if (--this.remaining <= 0) this.finish();
      return { done: false, value };
    }
  }

  /** Whether the entry at `off` in `b` is within `bound` on the side `dir` (1: upper, -1: lower). */
  private inside(bound: Bound | undefined, b: Uint8Array, off: number, dir: 1 | -1): boolean {
    if (bound === undefined) return true;
    const c = compareBytes(b, off + 1, sortKeyEnd(b, off), bound.key, 0, bound.key.length) * dir;
    return c < 0 || (c === 0 && bound.inclusive);
  }

  /** On entering a leaf: whether its last entry in the walk's direction is inside the far bound (then all are). */
  private checkLeaf(leaf: Leaf): void {
    const n = leaf.count;
    if (n === 0) {
      this.leafInside = true;
      return;
    }
    const i = this.reverse ? 0 : n - 1;
    this.leafInside = this.inside(this.reverse ? this.lo : this.hi, leaf.bufAt(i), leaf.offs[i]!, this.reverse ? -1 : 1);
  }

  return(): IteratorResult<T> {
    return this.done();
  }

  private done(): IteratorResult<T> {
    this.finish();
    return { done: true, value: undefined };
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.leaf = undefined;
    this.stack.length = 0;
    this.onDone();
  }

  /** Walk down from `node` to the leaf holding `bound` (or the edge), setting pos. */
  private descend(node: Node, bound: Bound | undefined): void {
    while (!node.leaf) {
      const idx =
        bound !== undefined ? childIndex(node, bound.key, 0, bound.key.length) : this.reverse ? node.count - 1 : 0;
      this.stack.push({ node, idx });
      node = childAt(this.cache, node, idx);
    }
    this.leaf = node;
    this.checkLeaf(node);
    if (bound === undefined) {
      this.pos = this.reverse ? node.count - 1 : 0;
      return;
    }
    const at = leafSearch(node, bound.key, 0, bound.key.length);
    const found = at >= 0;
    const index = found ? at : -at - 1;
    if (this.reverse) this.pos = found && bound.inclusive ? index : index - 1;
    else this.pos = found && !bound.inclusive ? index + 1 : index;
  }

  /** Move to the next leaf in the walk's direction; false at the end of the tree. */
  private step(): boolean {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) return false;
      const idx = top.idx + (this.reverse ? -1 : 1);
      if (idx < 0 || idx >= top.node.count) {
        this.stack.pop();
        continue;
      }
      top.idx = idx;
      this.descend(childAt(this.cache, top.node, idx), undefined);
      return true;
    }
  }
}

function emptyInterval(lo: Bound, hi: Bound): boolean {
  const c = lo.key.compare(hi.key);
  return c > 0 || (c === 0 && !(lo.inclusive && hi.inclusive));
}
