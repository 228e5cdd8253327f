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
import { compareBytes } from './compare.js';
import { childAt, childIndex, leafSearch, lookup } from './find.js';
import { DIRTY, entrySizeAt, type Leaf, type Node } from './node.js';

/**
 * An operation. Keys and values to store travel as one serialized entry
 * (key length, key, value length, value: see node.ts makeEntry) at `off` in
 * `entry` (0 when absent), made when the request is issued (arena.ts): that
 * single copy protects the store from later changes to the caller's
 * buffers, and the leaf stores it as is.
 */
export type Op =
  | { kind: 'put' | 'add' | 'modify'; entry: Buffer; off?: number }
  | { kind: 'cas'; entry: Buffer; off?: number; expected: Buffer }
  | { kind: 'del'; key: Buffer }
  | { kind: 'cad'; key: Buffer; expected: Buffer };

export class WorkingTree {
  root: Node;
  /** Change in the number of keys made by this batch. */
  keysDelta = 0;
  /** Number of nodes dirtied (0: nothing to write). */
  dirtied = 0;
  /** Block numbers of the clean LEAVES this batch copies (and so rewrites at
   * the head of the log): what the cleaning debt is paid back by. */
  readonly leavesCopied: number[] = [];
  /** Block numbers of every clean NODE this batch replaces, leaves and
   * parents (the rebalance adds those it merges away): what leaves the cache
   * once the commit is durable. */
  readonly nodesReplaced: number[] = [];
  /** The leaf dirtyLeafFor() found last, and the bounds of its key range (undefined: unbounded). */
  private lastLeaf: Leaf | undefined;
  private lastLo: Buffer | undefined;
  private lastHi: Buffer | undefined;

  constructor(
    private readonly cache: NodeCache,
    committedRoot: Node,
  ) {
    this.root = committedRoot;
  }

  /** The current value of the key `kb[ks, ke)` in this batch's view (a view; do not keep). */
  get(kb: Uint8Array, ks: number, ke: number): Buffer | undefined {
    return lookup(this.cache, this.root, kb, ks, ke);
  }

  /** Apply one operation; returns whether it took effect (put: always). */
  apply(op: Op): boolean {
    switch (op.kind) {
      case 'put':
        this.put(op.entry, op.off ?? 0);
        return true;
      case 'del':
        return this.del(op.key, 0, op.key.length);
      case 'add': {
        const off = op.off ?? 0;
        if (this.get(op.entry, off + 1, off + 1 + op.entry[off]!) !== undefined) return false;
        this.put(op.entry, off);
        return true;
      }
      case 'modify': {
        const off = op.off ?? 0;
        if (this.get(op.entry, off + 1, off + 1 + op.entry[off]!) === undefined) return false;
        this.put(op.entry, off);
        return true;
      }
      case 'cas': {
        const off = op.off ?? 0;
        const cur = this.get(op.entry, off + 1, off + 1 + op.entry[off]!);
        if (cur === undefined || !cur.equals(op.expected)) return false;
        this.put(op.entry, off);
        return true;
      }
      case 'cad': {
        const cur = this.get(op.key, 0, op.key.length);
        if (cur === undefined || !cur.equals(op.expected)) return false;
        return this.del(op.key, 0, op.key.length);
      }
    }
  }

  /** Store the serialized entry at `off` in `buf`, replacing the pair with the same key. */
  put(buf: Buffer, off: number): void {
    const ks = off + 1;
    const ke = ks + buf[off]!;
    const size = ke + 1 + buf[ke]! - off;
    const leaf = this.dirtyLeafFor(buf, ks, ke);
    const bufs = leaf.bufs!;
    const offs = leaf.offs as number[];
    const at = leafSearch(leaf, buf, ks, ke);
    if (at >= 0) {
      leaf.size += size - leaf.entrySize(at);
      bufs[at] = buf;
      offs[at] = off;
    } else {
      const index = -at - 1;
      if (index === bufs.length) {
        bufs.push(buf);
        offs.push(off);
      } else {
        bufs.splice(index, 0, buf);
        offs.splice(index, 0, off);
      }
      leaf.size += size;
      this.keysDelta++;
    }
  }

  del(kb: Uint8Array, ks: number, ke: number): boolean {
    if (this.get(kb, ks, ke) === undefined) return false;
    const leaf = this.dirtyLeafFor(kb, ks, ke);
    const index = leafSearch(leaf, kb, ks, ke);
    leaf.size -= entrySizeAt(leaf.bufs![index]!, leaf.offs[index]!);
    leaf.bufs!.splice(index, 1);
    (leaf.offs as number[]).splice(index, 1);
    this.keysDelta--;
    return true;
  }

  /** Dirty the leaf covering `key` (the cleaner uses this to rewrite old leaves). */
  touch(key: Buffer): void {
    this.dirtyLeafFor(key, 0, key.length);
  }

  /**
   * The dirty leaf covering the key `kb[ks, ke)`, copying it and its
   * ancestors as needed. The last leaf found and the bounds its ancestors'
   * separators set are remembered: keys that arrive in order (a load, an
   * update pass) land in it again and skip the descent. The bounds stay
   * true until the batch rebalances, after which nothing calls this.
   */
  private dirtyLeafFor(kb: Uint8Array, ks: number, ke: number): Leaf {
    const last = this.lastLeaf;
    if (last !== undefined) {
      const lo = this.lastLo;
      const hi = this.lastHi;
      if (
        (lo === undefined || compareBytes(kb, ks, ke, lo, 0, lo.length) >= 0) &&
        (hi === undefined || compareBytes(kb, ks, ke, hi, 0, hi.length) < 0)
      ) {
        return last;
      }
    }
    if (this.root.blockNo !== DIRTY) {
      if (this.root.blockNo >= 0) {
        this.nodesReplaced.push(this.root.blockNo);
        if (this.root.leaf) this.leavesCopied.push(this.root.blockNo);
      }
      this.root = this.root.cloneDirty();
      this.dirtied++;
    }
    let lo: Buffer | undefined;
    let hi: Buffer | undefined;
    let n = this.root;
    while (!n.leaf) {
      const i = childIndex(n, kb, ks, ke);
      const keys = n.keys;
      if (i > 0) lo = keys[i - 1];
      if (i < keys.length) hi = keys[i];
      let c = n.children![i];
      if (c === undefined) {
        const clean = childAt(this.cache, n, i);
        this.nodesReplaced.push(clean.blockNo);
        if (clean.leaf) this.leavesCopied.push(clean.blockNo);
        c = clean.cloneDirty();
        n.children![i] = c;
        n.blocks[i] = DIRTY;
        this.dirtied++;
      }
      n = c;
    }
    this.lastLeaf = n;
    this.lastLo = lo;
    this.lastHi = hi;
    return n;
  }
}
