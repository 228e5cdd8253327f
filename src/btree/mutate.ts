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
import { childAt, childIndex, findLeaf, leafSearch } from './find.js';
import { BirchError } from '../errors.js';
import {
  KS_EXPIRY,
  deadlineAt,
  entrySize,
  entrySizeAt,
  expiredAt,
  makeEntry,
  sortKey,
  sortKeyEnd,
  valueStart,
  writeDeadline,
  writeValueHead,
} from './entry.js';
import { DIRTY, type Leaf, type Node, type Parent } from './node.js';

/**
 * An operation. Keys are sort keys (entry.ts: the keyspace byte, then the
 * key). Pairs to store travel as one serialized entry at `off` in `entry`
 * (0 when absent), made when the request is issued (arena.ts): that single
 * copy protects the store from later changes to the caller's buffers, and
 * the leaf stores it as is.
 *
 * An entry whose deadline has passed (at the batch's `now`) is absent to
 * every operation, as it is to readers.
 */
export type Op =
  /** `keep`: the pair keeps the deadline the key has (the entry must carry none), as Redis's SET KEEPTTL. */
  | { kind: 'put' | 'add' | 'modify'; entry: Buffer; off?: number; keep?: boolean }
  | { kind: 'cas'; entry: Buffer; off?: number; expected: Buffer; keep?: boolean }
  | { kind: 'del'; key: Buffer }
  | { kind: 'cad'; key: Buffer; expected: Buffer }
  /** Set the deadline of a present key (ms since the epoch); one already past deletes it. */
  | { kind: 'expire'; key: Buffer; deadline: number }
  /** Remove a present key's deadline. */
  | { kind: 'persist'; key: Buffer }
  /** Add `by` to a decimal counter (absent: 0); keeps its deadline. */
  | { kind: 'incr'; key: Buffer; by: bigint }
  /** Append bytes to a value (absent: empty); keeps its deadline. */
  | { kind: 'append'; key: Buffer; bytes: Buffer }
  /** Delete what expired under expiry-index entry `key` (the background purge). */
  | { kind: 'purge'; key: Buffer };

/** The result of an operation: whether it took effect, a counter's value, a length, or why it was refused. */
export type OpResult = boolean | bigint | number | BirchError;

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);
/** A counter's value as a number where that is exact, else as a bigint. */
function counterResult(v: bigint): bigint | number {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

export class WorkingTree {
  root: Node;
  /** Change in the number of keys made by this batch. */
  keysDelta = 0;
  /** Of that change, the change in the store's own entries (keyspaces from KS_EXPIRY up). */
  internalDelta = 0;
  /** Number of nodes dirtied (0: nothing to write). */
  dirtied = 0;
  /** Block numbers of the clean LEAVES this batch copies (and so rewrites at
   * the head of the log): what the cleaning debt is paid back by. */
  readonly leavesCopied: number[] = [];
  /** Block numbers of every clean NODE this batch replaces, leaves and
   * parents (the rebalance adds those it merges away): what leaves the cache
   * once the commit is durable. */
  readonly nodesReplaced: number[] = [];
  /** The leaf dirtyLeafFor() found last, and the bounds of its key range (buf[start, end); undefined: unbounded). */
  private lastLeaf: Leaf | undefined;
  private loBuf: Uint8Array | undefined;
  private loStart = 0;
  private loEnd = 0;
  private hiBuf: Uint8Array | undefined;
  private hiStart = 0;
  private hiEnd = 0;
  /** Where find() found the live entry: its buffer and offset. */
  private foundBuf: Buffer | undefined;
  private foundOff = 0;

  /**
   * @param now the batch's clock reading (ms since the epoch): entries whose
   *   deadline is at or before it are absent.
   */
  constructor(
    private readonly cache: NodeCache,
    committedRoot: Node,
    readonly now: number = Date.now(),
  ) {
    this.root = committedRoot;
  }

  /** The current value of the sort key `kb[ks, ke)` in this batch's view (a view; do not keep). */
  get(kb: Uint8Array, ks: number, ke: number): Buffer | undefined {
    if (!this.find(kb, ks, ke)) return undefined;
    const b = this.foundBuf!;
    const vs = valueStart(b, this.foundOff);
    return b.subarray(vs, vs + b[vs - 1]!);
  }

  /** Whether the sort key `kb[ks, ke)` is present and live; if so, foundBuf/foundOff say where. */
  private find(kb: Uint8Array, ks: number, ke: number): boolean {
    const leaf = findLeaf(this.cache, this.root, kb, ks, ke);
    const i = leafSearch(leaf, kb, ks, ke);
    if (i < 0) return false;
    const b = leaf.bufAt(i);
    const off = leaf.offs[i]!;
    if (expiredAt(b, off, this.now)) return false;
    this.foundBuf = b;
    this.foundOff = off;
    return true;
  }

  /** Apply one operation; returns its result (see OpResult; put: true). */
  apply(op: Op): OpResult {
    switch (op.kind) {
      case 'put':
        this.store(op.entry, op.off ?? 0, op.keep === true);
        return true;
      case 'del':
        return this.del(op.key, 0, op.key.length);
      case 'add': {
        const off = op.off ?? 0;
        if (this.find(op.entry, off + 1, sortKeyEnd(op.entry, off))) return false;
        this.put(op.entry, off); // absent: no lifetime to keep
        return true;
      }
      case 'modify': {
        const off = op.off ?? 0;
        if (!this.find(op.entry, off + 1, sortKeyEnd(op.entry, off))) return false;
        this.store(op.entry, off, op.keep === true);
        return true;
      }
      case 'cas': {
        const off = op.off ?? 0;
        const cur = this.get(op.entry, off + 1, sortKeyEnd(op.entry, off));
        if (cur === undefined || !cur.equals(op.expected)) return false;
        this.store(op.entry, off, op.keep === true);
        return true;
      }
      case 'cad': {
        const cur = this.get(op.key, 0, op.key.length);
        if (cur === undefined || !cur.equals(op.expected)) return false;
        return this.del(op.key, 0, op.key.length);
      }
      case 'expire': {
        if (!this.find(op.key, 0, op.key.length)) return false;
        if (op.deadline <= this.now) return this.del(op.key, 0, op.key.length);
        this.rewrite(op.key, this.get(op.key, 0, op.key.length)!, op.deadline);
        return true;
      }
      case 'persist': {
        if (!this.find(op.key, 0, op.key.length)) return false;
        if (deadlineAt(this.foundBuf!, this.foundOff) === 0) return false;
        this.rewrite(op.key, this.get(op.key, 0, op.key.length)!, 0);
        return true;
      }
      case 'incr':
        return this.incr(op.key, op.by);
      case 'append':
        return this.append(op.key, op.bytes);
      case 'purge':
        this.purge(op.key);
        return true;
    }
  }

  /** put(), or with `keep` the entry given the deadline its key has now (if it is live and has one). */
  private store(buf: Buffer, off: number, keep: boolean): void {
    if (keep && this.find(buf, off + 1, sortKeyEnd(buf, off))) {
      const deadline = deadlineAt(this.foundBuf!, this.foundOff);
      if (deadline > 0) {
        const k = buf[off]!;
        const vs = valueStart(buf, off);
        const v = buf[vs - 1]!;
        const e = Buffer.allocUnsafe(entrySize(k, v, deadline));
        buf.copy(e, 0, off, off + 2 + k); // key length, keyspace, key
        const nvs = writeValueHead(e, 0, k, v, deadline);
        buf.copy(e, nvs, vs, vs + v);
        writeDeadline(e, nvs, v, deadline);
        this.put(e, 0);
        return;
      }
    }
    this.put(buf, off);
  }

  /** Store the serialized entry at `off` in `buf`, replacing the pair with the same key. */
  put(buf: Buffer, off: number): void {
    const ks = off + 1;
    const ke = sortKeyEnd(buf, off);
    const size = entrySizeAt(buf, off);
    const leaf = this.dirtyLeafFor(buf, ks, ke);
    leaf.mutable();
    const bufs = leaf.bufs!;
    const offs = leaf.offs as number[];
    const at = leafSearch(leaf, buf, ks, ke);
    let oldDeadline = 0;
    if (at >= 0) {
      oldDeadline = deadlineAt(bufs[at]!, offs[at]!);
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
      if (buf[off + 1]! >= KS_EXPIRY) this.internalDelta++;
    }
    // The expiry index follows the entry's deadline (only entries of the keyspaces users write have one).
    const deadline = deadlineAt(buf, off);
    if (oldDeadline !== deadline) {
      if (oldDeadline > 0) this.unindex(oldDeadline, buf, ks, ke);
      if (deadline > 0) this.index(deadline, buf, ks, ke);
    }
  }

  /** Delete the sort key `kb[ks, ke)` (an expired entry too); returns whether a live one was removed. */
  del(kb: Uint8Array, ks: number, ke: number): boolean {
    const leaf0 = findLeaf(this.cache, this.root, kb, ks, ke);
    if (leafSearch(leaf0, kb, ks, ke) < 0) return false;
    const leaf = this.dirtyLeafFor(kb, ks, ke);
    leaf.mutable();
    const index = leafSearch(leaf, kb, ks, ke);
    const b = leaf.bufs![index]!;
    const o = leaf.offs[index]!;
    const live = !expiredAt(b, o, this.now);
    const deadline = deadlineAt(b, o);
    leaf.size -= entrySizeAt(b, o);
    if (b[o + 1]! >= KS_EXPIRY) this.internalDelta--;
    leaf.bufs!.splice(index, 1);
    (leaf.offs as number[]).splice(index, 1);
    this.keysDelta--;
    if (deadline > 0) this.unindex(deadline, kb, ks, ke);
    return live;
  }

  /** Store the present key's `value` again with `deadline` (0: none). */
  private rewrite(key: Buffer, value: Buffer, deadline: number): void {
    const k = key.length - 1;
    const e = Buffer.allocUnsafe(entrySize(k, value.length, deadline));
    key.copy(e, 1);
    e[0] = k;
    const vs = writeValueHead(e, 0, k, value.length, deadline);
    value.copy(e, vs);
    if (deadline > 0) writeDeadline(e, vs, value.length, deadline);
    this.put(e, 0);
  }

  private incr(key: Buffer, by: bigint): OpResult {
    let cur = 0n;
    let deadline = 0;
    if (this.find(key, 0, key.length)) {
      deadline = deadlineAt(this.foundBuf!, this.foundOff);
      const v = this.get(key, 0, key.length)!;
      const parsed = parseCounter(v);
      if (parsed === undefined) return new BirchError('BIRCH_NOT_AN_INTEGER', `value is not a 64-bit signed integer in decimal`);
      cur = parsed;
    }
    const next = cur + by;
    if (next > I64_MAX || next < I64_MIN) return new BirchError('BIRCH_NOT_AN_INTEGER', `incrementing ${cur} by ${by} leaves the 64-bit signed range`);
    this.rewrite(key, Buffer.from(next.toString(), 'latin1'), deadline);
    return counterResult(next);
  }

  private append(key: Buffer, bytes: Buffer): OpResult {
    let cur: Buffer = Buffer.alloc(0);
    let deadline = 0;
    if (this.find(key, 0, key.length)) {
      deadline = deadlineAt(this.foundBuf!, this.foundOff);
      cur = this.get(key, 0, key.length)!;
    }
    const len = cur.length + bytes.length;
    if (len > MAX_VALUE) return new BirchError('BIRCH_VALUE_TOO_LARGE', `appending ${bytes.length} bytes to a value of ${cur.length} would make ${len}, over ${MAX_VALUE}`);
    this.rewrite(key, Buffer.concat([cur, bytes]), deadline);
    return len;
  }

  /**
   * The expiry index (entry.ts, KS_EXPIRY): one entry per entry with a
   * deadline, keyed by the deadline (u64 big-endian, so they sort by time)
   * and then the entry's sort key, whose bytes past the first 247 go in the
   * index entry's value (a sort key is at most 256 bytes).
   */
  private index(deadline: number, kb: Uint8Array, ks: number, ke: number): void {
    const { key, rest } = indexKey(deadline, kb, ks, ke);
    this.put(makeEntry(key, rest, KS_EXPIRY), 0);
  }

  private unindex(deadline: number, kb: Uint8Array, ks: number, ke: number): void {
    const { key } = indexKey(deadline, kb, ks, ke);
    const sk = sortKey(key, KS_EXPIRY);
    this.del(sk, 0, sk.length);
  }

  /** Delete what expired under the expiry-index entry with sort key `ik`, and the index entry. */
  private purge(ik: Buffer): void {
    const rest = this.get(ik, 0, ik.length);
    if (rest === undefined) return; // gone meanwhile
    const deadline = readDeadlineBE(ik, 1);
    const target = Buffer.concat([ik.subarray(1 + 8), rest]);
    const leaf = findLeaf(this.cache, this.root, target, 0, target.length);
    const i = leafSearch(leaf, target, 0, target.length);
    if (i >= 0 && deadlineAt(leaf.bufAt(i), leaf.offs[i]!) === deadline && deadline <= this.now) {
      this.del(target, 0, target.length); // removes the index entry too
    } else {
      this.del(ik, 0, ik.length); // stale: the entry changed or went
    }
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
      const lo = this.loBuf;
      const hi = this.hiBuf;
      if (
        (lo === undefined || compareBytes(kb, ks, ke, lo, this.loStart, this.loEnd) >= 0) &&
        (hi === undefined || compareBytes(kb, ks, ke, hi, this.hiStart, this.hiEnd) < 0)
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
    this.loBuf = this.hiBuf = undefined;
    let n = this.root;
    while (!n.leaf) {
      const i = childIndex(n, kb, ks, ke);
      if (i > 0) this.bound(n, i - 1, true);
      if (i < n.count - 1) this.bound(n, i, false);
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
    return n;
  }

  /** Remember separator j of `p` as the lower (or upper) bound of the leaf being found. */
  private bound(p: Parent, j: number, lower: boolean): void {
    let buf: Uint8Array;
    let start: number;
    let end: number;
    if (p.sharesSeparators) {
      // Straight from the page: making Buffer views of a parent's separators costs more than the descent.
      buf = p.page!;
      const off = p.sepOffs![j]!;
      start = off + 1;
      end = sortKeyEnd(buf, off);
    } else {
      buf = p.keys[j]!;
      start = 0;
      end = buf.length;
    }
    if (lower) {
      this.loBuf = buf;
      this.loStart = start;
      this.loEnd = end;
    } else {
      this.hiBuf = buf;
      this.hiStart = start;
      this.hiEnd = end;
    }
  }
}

/** The most value bytes (entry.ts: one length byte). */
const MAX_VALUE = 255;
/** Bytes of the entry's sort key that an expiry-index key holds (1 + 8 + 247 = 256, the longest sort key). */
const INDEX_KEY_PART = 247;

/** The expiry-index key for an entry with `deadline` and sort key `kb[ks, ke)`, and the sort key's bytes that do not fit. */
export function indexKey(deadline: number, kb: Uint8Array, ks: number, ke: number): { key: Buffer; rest: Buffer } {
  const part = Math.min(ke - ks, INDEX_KEY_PART);
  const key = Buffer.allocUnsafe(8 + part);
  key.writeUInt32BE(Math.floor(deadline / 0x1_0000_0000), 0);
  key.writeUInt32BE(deadline >>> 0, 4);
  key.set(kb.subarray(ks, ks + part), 8);
  return { key, rest: Buffer.from(kb.subarray(ks + part, ke)) };
}

/** The deadline (u64 big-endian) at `at` in an expiry-index sort key. */
export function readDeadlineBE(b: Uint8Array, at: number): number {
  const hi = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const lo = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

/** A stored counter: decimal ASCII digits, an optional '-', within the 64-bit signed range; else undefined. */
export function parseCounter(v: Uint8Array): bigint | undefined {
  if (v.length === 0 || v.length > 20) return undefined;
  let i = 0;
  const neg = v[0] === 0x2d;
  if (neg) i = 1;
  if (i >= v.length) return undefined;
  if (v[i] === 0x30 && v.length > i + 1) return undefined; // no leading zeros
  let n = 0n;
  for (; i < v.length; i++) {
    const d = v[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10n + BigInt(d);
  }
  if (neg) n = -n;
  if (neg && n === 0n) return undefined; // "-0"
  if (n > I64_MAX || n < I64_MIN) return undefined;
  return n;
}
