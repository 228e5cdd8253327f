/**
 * The read and write operations of one keyspace: the store's own keys, or
 * one table's (api/tables.ts). Keys are turned into sort keys here (the
 * keyspace byte, the table's prefix, the key: btree/entry.ts), values and
 * lifetimes checked, and everything refused with a typed error before
 * anything is queued. Store and Table are thin layers over a Keyspace.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import type { Commit, EntryArena, Op, Tree } from '../btree/index.js';
import { deadlineIn, entryIn, inBatchOp, lookupKey, rangeIn, sortKeyIn, valueIn, writeOptionsIn, type Space } from './input.js';
import type { EncodedOp } from './access.js';
import { iterate, type SnapshotState } from './readers.js';
import type { Bytes, WriteOptions } from './types.js';

/** What a keyspace needs from the store that owns it. */
export interface Owner {
  readonly tree: Tree;
  readonly arena: EntryArena;
  /** Throws BIRCH_CLOSED once the store's files are released (reads stop). */
  checkReadable(): void;
  /** Throws BIRCH_CLOSED once close() was called (writes stop). */
  checkWritable(): void;
  /** Whether close() was called (the same test, without throwing). */
  closing(): boolean;
}

/**
 * Where a keyspace's keys are: fixed for the store's own, resolved on each
 * call for a table (it may not exist yet, or have been dropped). `read`
 * returns undefined for a table that holds nothing (reads see nothing);
 * `write` returns the space and any operations that must go first in the
 * same batch (creating the table in the catalog).
 */
/** Where a write goes, and what must commit with or before it. */
export interface WriteTarget {
  space: Space;
  before: Op[] | undefined;
}

export interface SpaceSource {
  read(commit: Commit): Space;
  write(): WriteTarget;
  /** Called once a batch that carried `before` for `space` has committed. */
  committed?(space: Space): void;
}

const closedStore = (): BirchError => new BirchError('BIRCH_CLOSED', 'store is closed');

export class Keyspace {
  /** Reused for lookups: a sort key is at most 256 bytes. */
  private readonly scratch = Buffer.allocUnsafeSlow(257);

  constructor(
    readonly owner: Owner,
    readonly source: SpaceSource,
  ) {}

  /** The live value of `key` in `commit`, or undefined. */
  get(key: Bytes, commit: Commit = this.owner.tree.committed): Buffer | undefined {
    this.owner.checkReadable();
    const end = lookupKey(this.scratch, this.source.read(commit), key);
    return this.owner.tree.getIn(commit, this.scratch, end);
  }

  /** Milliseconds `key` has left, Infinity if it does not expire, undefined if absent or expired. */
  ttl(key: Bytes, commit: Commit = this.owner.tree.committed): number | undefined {
    this.owner.checkReadable();
    const sk = sortKeyIn(this.source.read(commit), key);
    const tree = this.owner.tree;
    const deadline = tree.deadlineIn(commit, sk);
    if (deadline === undefined) return undefined;
    if (deadline === 0) return Infinity;
    return Math.max(0, deadline - tree.now());
  }

  put(key: Bytes, value: Bytes, opts?: WriteOptions): Promise<void> {
    if (!this.writable()) return Promise.reject(closedStore());
    // The hot path of every load: no objects beyond the operation itself.
    const tree = this.owner.tree;
    let op: Op;
    let w: WriteTarget;
    try {
      w = this.source.write();
      const o = opts === undefined ? undefined : writeOptionsIn(opts);
      const deadline = o === undefined ? 0 : deadlineIn(o.ttl, tree.now());
      const arena = this.owner.arena;
      const entry = entryIn(arena, w.space, key, value, deadline);
      op = o?.keepTtl === true ? { kind: 'put', entry, off: arena.at, keep: true } : { kind: 'put', entry, off: arena.at };
    } catch (err) {
      return Promise.reject(err);
    }
    this.submitBefore(w);
    return tree.submitShared(op);
  }

  delete(key: Bytes): Promise<boolean> {
    return this.request((space) => ({ kind: 'del', key: sortKeyIn(space, key) }));
  }

  add(key: Bytes, value: Bytes, opts?: WriteOptions): Promise<boolean> {
    return this.requestWith(() => this.entryOp('add', key, value, opts));
  }

  modify(key: Bytes, value: Bytes, opts?: WriteOptions): Promise<boolean> {
    return this.requestWith(() => this.entryOp('modify', key, value, opts));
  }

  cas(key: Bytes, expected: Bytes, value: Bytes, opts?: WriteOptions): Promise<boolean> {
    return this.requestWith(() => {
      const exp = valueIn(expected, 'expected value');
      const { entry, off, w, keep } = this.entry(key, value, opts);
      return { op: { kind: 'cas', entry, off, expected: exp, keep }, w };
    });
  }

  cad(key: Bytes, expected: Bytes): Promise<boolean> {
    return this.request((space) => ({ kind: 'cad', key: sortKeyIn(space, key), expected: valueIn(expected, 'expected value') }));
  }

  /** Set or replace `key`'s lifetime (ms from now); resolves whether the key exists. 0 or less: the key goes. */
  expire(key: Bytes, ms: number): Promise<boolean> {
    return this.request((space) => {
      if (typeof ms !== 'number' || !Number.isFinite(ms)) {
        throw new BirchError('BIRCH_BAD_ARGUMENT', `expire needs a finite number of milliseconds, got ${String(ms)}`);
      }
      const now = this.owner.tree.now();
      return { kind: 'expire', key: sortKeyIn(space, key), deadline: ms <= 0 ? now : deadlineIn(ms, now, 'expire\'s milliseconds') };
    });
  }

  /** Remove `key`'s lifetime; resolves whether it had one. */
  persist(key: Bytes): Promise<boolean> {
    return this.request((space) => ({ kind: 'persist', key: sortKeyIn(space, key) }));
  }

  /** Add `by` (default 1) to the decimal counter at `key` (absent: 0); resolves with the new value. */
  incr(key: Bytes, by: number | bigint = 1): Promise<number | bigint> {
    return this.request((space) => {
      let b: bigint;
      if (typeof by === 'bigint') b = by;
      else if (typeof by === 'number' && Number.isSafeInteger(by)) b = BigInt(by);
      else throw new BirchError('BIRCH_BAD_ARGUMENT', `incr needs an integer (a safe-integer number or a bigint), got ${String(by)}`);
      return { kind: 'incr', key: sortKeyIn(space, key), by: b };
    }) as unknown as Promise<number | bigint>;
  }

  /** Append `bytes` to the value at `key` (absent: empty); resolves with the new length. */
  append(key: Bytes, bytes: Bytes): Promise<number> {
    return this.request((space) => ({ kind: 'append', key: sortKeyIn(space, key), bytes: valueIn(bytes, 'appended value') })) as unknown as Promise<number>;
  }

  /**
   * What `make` makes of each pair in key order (`skip`: bytes of the sort
   * key before the key itself), read lazily from `commit`.
   */
  iterate<T>(
    opts: object | undefined,
    make: (b: Buffer, off: number, skip: number) => T,
    commit: Commit = this.owner.tree.committed,
    snapshot?: SnapshotState,
  ): IterableIterator<T> {
    this.owner.checkReadable();
    const space = this.source.read(commit);
    const skip = 1 + space.prefix.length;
    return iterate(this.owner.tree, commit, rangeIn(opts, space), (b, off) => make(b, off, skip), snapshot);
  }

  /** An entry operation (put, add, modify) with what must go before it. */
  private entryOp(kind: 'put' | 'add' | 'modify', key: Bytes, value: Bytes, opts: WriteOptions | undefined): { op: Op; w: WriteTarget } {
    const { entry, off, w, keep } = this.entry(key, value, opts);
    return { op: { kind, entry, off, keep }, w };
  }

  /** The pair as an entry in the arena (its buffer and offset), with what must go before it. */
  private entry(key: Bytes, value: Bytes, opts: WriteOptions | undefined): { entry: Buffer; off: number; w: WriteTarget; keep: boolean } {
    const o = opts === undefined ? undefined : writeOptionsIn(opts);
    const w = this.source.write();
    const deadline = o === undefined ? 0 : deadlineIn(o.ttl, this.owner.tree.now());
    const arena = this.owner.arena;
    const entry = entryIn(arena, w.space, key, value, deadline);
    return { entry, off: arena.at, w, keep: o?.keepTtl === true };
  }

  private writable(): boolean {
    return !this.owner.closing();
  }

  private request(make: (space: Space) => Op): Promise<boolean> {
    return this.requestWith(() => {
      const w = this.source.write();
      return { op: make(w.space), w };
    });
  }

  private requestWith(make: () => { op: Op; w: WriteTarget }): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.owner.checkWritable();
      const { op, w } = make();
      this.submitBefore(w);
      this.owner.tree.submit({ op, resolve: resolve as (r?: boolean | bigint | number) => void, reject });
    });
  }

  /**
   * Queue what must commit with or before the next operation (a table's
   * catalog pairs): queued first, so it lands in the same batch or an
   * earlier one, never a later one.
   */
  private submitBefore(w: WriteTarget): void {
    if (w.before === undefined) return;
    let last: Promise<void> | undefined;
    for (const b of w.before) last = this.owner.tree.submitShared(b);
    last!.then(
      () => this.source.committed?.(w.space),
      () => undefined, // the failure is reported by the operation that follows, in the same or a later batch
    );
  }

  /**
   * Apply `ops` (each in its own keyspace: a store's batch may write several
   * tables) as one atomic request: all of them or none. Every operation is
   * checked and encoded before anything is queued.
   */
  batch(ops: EncodedOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.owner.checkWritable();
      const now = this.owner.tree.now();
      const arena = this.owner.arena;
      const out: Op[] = [];
      const created: Array<{ source: SpaceSource; space: Space }> = [];
      const seen = new Set<SpaceSource>();
      const parsed = ops.map((o, i): Op => {
        const source = o.ks.source;
        const { space, before } = source.write();
        if (before !== undefined && !seen.has(source)) {
          seen.add(source);
          out.push(...before);
          created.push({ source, space });
        }
        if (o.type === 'put') {
          const deadline = deadlineIn(o.ttl, now, `batch operation ${i}'s ttl`);
          return inBatchOp(i, () => ({ kind: 'put', entry: entryIn(arena, space, o.key, o.value, deadline), off: arena.at }));
        }
        return inBatchOp(i, () => ({ kind: 'del', key: sortKeyIn(space, o.key) }));
      });
      out.push(...parsed);
      if (out.length === 0) return resolve();
      this.owner.tree.submit({
        op: out,
        resolve: () => {
          for (const c of created) c.source.committed?.(c.space);
          resolve();
        },
        reject,
      });
    });
  }
}
