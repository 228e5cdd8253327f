/**
 * Range iteration over one committed tree: lazy, synchronous, in either
 * direction. The iterator walks immutable clean nodes only, so it sees one
 * consistent commit however long it is held; the layer above pins that
 * commit's blocks against freeing until `onDone` runs.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import { FLAG_DEADLINE, expiredAt } from './entry.js';
import { childAt, childIndex, leafSearch } from './find.js';
import type { Leaf, Node, Parent } from './node.js';

export interface Bound {
  key: Buffer;
  inclusive: boolean;
}

export class RangeIterator<T> implements IterableIterator<T> {
  private readonly stack: { node: Parent; idx: number }[] = [];
  private leaf: Leaf | undefined;
  private pos = 0;
  private remaining: number;
  private finished = false;

  constructor(
    private readonly cache: NodeCache,
    root: Node,
    private readonly lo: Bound | undefined,
    private readonly hi: Bound | undefined,
    private readonly reverse: boolean,
    limit: number,
    private readonly make: (key: Buffer, value: Buffer) => T,
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
      const key = leaf.keyAt(i);
      if (this.reverse) {
        if (this.lo !== undefined) {
          const c = key.compare(this.lo.key);
          if (c < 0 || (c === 0 && !this.lo.inclusive)) return this.done();
        }
        this.pos--;
      } else {
        if (this.hi !== undefined) {
          const c = key.compare(this.hi.key);
          if (c > 0 || (c === 0 && !this.hi.inclusive)) return this.done();
        }
        this.pos++;
      }
      // An entry whose deadline passed is invisible (the clock read only for entries that have one).
      const b = leaf.bufAt(i);
      const off = leaf.offs[i]!;
      if ((b[off + 2 + b[off]!]! & FLAG_DEADLINE) !== 0 && expiredAt(b, off, this.now())) continue;
      const value = this.make(key, leaf.valueAt(i));
      if (--this.remaining <= 0) this.finish();
      return { done: false, value };
    }
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
