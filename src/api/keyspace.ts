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
import { deadlineIn, entryIn, lookupKey, rangeIn, sortKeyIn, valueIn, writeOptionsIn, type Space } from './input.js';
import { iterate, type SnapshotState } from './readers.js';
import type { Bytes, RangeOptions, WriteOptions } from './types.js';

/** What a keyspace needs from the store that owns it. */
export interface Owner {
  readonly tree: Tree;
  readonly arena: EntryArena;
  /** Throws BIRCH_CLOSED once the store's files are released (reads stop). */
  checkReadable(): void;
  /** Throws BIRCH_CLOSED once close() was called (writes stop). */
  checkWritable(): void;
}

/**
 * Where a keyspace's keys are: fixed for the store's own, resolved on each
 * call for a table (it may not exist yet, or have been dropped). `read`
 * returns undefined for a table that holds nothing (reads see nothing);
 * `write` returns the space and any operations that must go first in the
 * same batch (creating the table in the catalog).
 */
export interface SpaceSource {
  read(commit: Commit): Space | undefined;
  write(): { space: Space; before: Op[] | undefined };
}

const closedStore = (): BirchError => new BirchError('BIRCH_CLOSED', 'store is closed');

export class Keyspace {
  /** Reused for lookups: a sort key is at most 256 bytes. */
  private readonly scratch = Buffer.allocUnsafeSlow(257);

  constructor(
    private readonly owner: Owner,
    readonly source: SpaceSource,
  ) {}

  /** The live value of `key` in `commit`, or undefined. */
  get(key: Bytes, commit: Commit = this.owner.tree.committed): Buffer | undefined {
    this.owner.checkReadable();
    const space = this.source.read(commit);
    if (space === undefined) {
      lookupKey(this.scratch, { keyspace: 0, prefix: EMPTY }, key); // still refuse bad keys
      return undefined;
    }
    const end = lookupKey(this.scratch, space, key);
    return this.owner.tree.getIn(commit, this.scratch, end);
  }

  /** Milliseconds `key` has left, Infinity if it does not expire, undefined if absent or expired. */
  ttl(key: Bytes, commit: Commit = this.owner.tree.committed): number | undefined {
    this.owner.checkReadable();
    const space = this.source.read(commit);
    if (space === undefined) return undefined;
    const sk = sortKeyIn(space, key);
    const tree = this.owner.tree;
    const deadline = tree.deadlineIn(commit, sk);
    if (deadline === undefined) return undefined;
    if (deadline === 0) return Infinity;
    return Math.max(0, deadline - tree.now());
  }

  put(key: Bytes, value: Bytes, opts?: WriteOptions): Promise<void> {
    if (!this.writable()) return Promise.reject(closedStore());
    let op: Op;
    let before: Op[] | undefined;
    try {
      ({ op, before } = this.entryOp('put', key, value, opts));
    } catch (err) {
      return Promise.reject(err);
    }
    const tree = this.owner.tree;
    if (before !== undefined) for (const b of before) void tree.submitShared(b).catch(() => undefined);
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
      const { entry, off, before } = this.entry(key, value, opts);
      return { op: { kind: 'cas', entry, off, expected: exp }, before };
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
      return { kind: 'expire', key: sortKeyIn(space, key), deadline: ms <= 0 ? now : now + Math.ceil(ms) };
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
    opts: RangeOptions | undefined,
    make: (k: Buffer, v: Buffer, skip: number) => T,
    commit: Commit = this.owner.tree.committed,
    snapshot?: SnapshotState,
  ): IterableIterator<T> {
    this.owner.checkReadable();
    const space = this.source.read(commit);
    if (space === undefined) {
      rangeIn(opts, { keyspace: 0, prefix: EMPTY }); // still refuse bad options
      return emptyIterator();
    }
    const skip = 1 + space.prefix.length;
    return iterate(this.owner.tree, commit, rangeIn(opts, space), (k, v) => make(k, v, skip), snapshot);
  }

  /** An entry operation (put, add, modify) with what must go before it. */
  private entryOp(kind: 'put' | 'add' | 'modify', key: Bytes, value: Bytes, opts: WriteOptions | undefined): { op: Op; before: Op[] | undefined } {
    const { entry, off, before } = this.entry(key, value, opts);
    return { op: { kind, entry, off }, before };
  }

  /** The pair as an entry in the arena (its buffer and offset), with what must go before it. */
  private entry(key: Bytes, value: Bytes, opts: WriteOptions | undefined): { entry: Buffer; off: number; before: Op[] | undefined } {
    const o = writeOptionsIn(opts);
    const { space, before } = this.source.write();
    const deadline = deadlineIn(o.ttl, this.owner.tree.now());
    const arena = this.owner.arena;
    const entry = entryIn(arena, space, key, value, deadline);
    return { entry, off: arena.at, before };
  }

  private writable(): boolean {
    try {
      this.owner.checkWritable();
      return true;
    } catch {
      return false;
    }
  }

  private request(make: (space: Space) => Op): Promise<boolean> {
    return this.requestWith(() => {
      const { space, before } = this.source.write();
      return { op: make(space), before };
    });
  }

  private requestWith(make: () => { op: Op; before: Op[] | undefined }): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.owner.checkWritable();
      const { op, before } = make();
      const tree = this.owner.tree;
      if (before !== undefined) for (const b of before) void tree.submitShared(b).catch(() => undefined);
      tree.submit({ op, resolve: resolve as (r?: boolean | bigint | number) => void, reject });
    });
  }
}

const EMPTY = new Uint8Array(0);

function emptyIterator<T>(): IterableIterator<T> {
  return {
    [Symbol.iterator]() {
      return this;
    },
    next: () => ({ done: true, value: undefined }),
    return: () => ({ done: true, value: undefined }),
  };
}
