/**
 * Readers of older commits: snapshots and range iterators, and the pins that
 * keep the blocks they read from being freed.
 *
 * Every snapshot and every range()/keys() iterator pins the commit it reads.
 * A pin is released by release(), by an iterator finishing (end, return(),
 * limit), by releasing the snapshot that owns unfinished iterators, or, for
 * readers dropped unreleased, by a FinalizationRegistry once they are
 * garbage-collected.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import { keyCopyAt, valueCopyAt, type Commit, type MakeEntry, type Tree } from '../btree/index.js';
import type { RangeIn } from './input.js';
/** What a snapshot is to its iterators: something to keep reachable. */
type Snapshot = object;

/** A range's pair, the key without its keyspace and table prefix (`skip` bytes of sort key), both copied. */
export const pair = (b: Buffer, off: number, skip: number): [Buffer, Buffer] => [keyCopyAt(b, off, skip), valueCopyAt(b, off)];
export const keyOnly = (b: Buffer, off: number, skip: number): Buffer => keyCopyAt(b, off, skip);

/** What a snapshot's iterators hold of their snapshot. */
export interface SnapshotState {
  /** Throws BIRCH_CLOSED once the snapshot is released or the store closed. */
  alive: () => void;
  /** Release functions of the snapshot's unfinished iterators. */
  iterators: Set<() => void>;
  /** The snapshot itself: kept reachable while any of its iterators is. */
  snapshot: Snapshot | undefined;
}

/** Releases the pins of snapshots and iterators that were dropped unreleased. */
const leaks = new FinalizationRegistry<() => void>((release) => release());

/**
 * Pin `commit` for a reader; `release` (idempotent) unpins it, after
 * releasing `children` (a snapshot's iterators) and leaving `siblings`.
 *
 * Made here, in a scope of its own, on purpose: `leaks` holds `release`
 * strongly, so nothing `release` closes over may reach the iterator or
 * snapshot registered with it, or that reader could never be collected (V8
 * closures made in one function share one context, so a release function
 * made beside the reader's own closures would keep the reader alive).
 */
function pinCommit(
  tree: Tree,
  commit: Commit,
  siblings: Set<() => void> | undefined,
  children: Set<() => void> | undefined,
): { release: () => void; released: () => boolean; token: object } {
  tree.pin(commit);
  let done = false;
  const token = {};
  const release = (): void => {
    if (done) return;
    done = true;
    leaks.unregister(token);
    siblings?.delete(release);
    if (children !== undefined) for (const r of [...children]) r();
    tree.unpin(commit);
    void tree.releaseSpace();
  };
  siblings?.add(release);
  return { release, released: () => done, token };
}

/** A lazy iterator over `commit`, pinned until it finishes (or is collected). */
export function iterate<T>(
  tree: Tree,
  commit: Commit,
  r: RangeIn,
  make: MakeEntry<T>,
  owner?: SnapshotState,
): IterableIterator<T> {
  const pin = pinCommit(tree, commit, owner?.iterators, undefined);
  let it: IterableIterator<T>;
  try {
    it = tree.rangeEntries(commit, r.lo, r.hi, r.reverse, r.limit, make, pin.release);
  } catch (err) {
    pin.release();
    throw err;
  }
  if (!pin.released()) leaks.register(it, pin.release, pin.token);
  if (owner === undefined) return it;
  // A snapshot's iterator refuses to go on once the snapshot is released.
  // It refers to the snapshot (through `owner`), so a snapshot dropped
  // while one of its iterators is still in use is not finalized under it.
  return {
    [Symbol.iterator]() {
      return this;
    },
    next: () => {
      owner.alive();
      return it.next();
    },
    return: () => it.return!(),
  };
}

/**
 * Pin `commit` for a snapshot: the state its reads and iterators check
 * (`storeAlive` throws BIRCH_CLOSED once the store is closed), its release
 * function, and `register`, to call with the snapshot object once made (a
 * snapshot dropped unreleased gives its pin back when collected).
 */
export function pinSnapshot(
  tree: Tree,
  commit: Commit,
  storeAlive: () => void,
): { state: SnapshotState; release: () => void; register: (snap: Snapshot) => void } {
  // Unfinished iterators of this snapshot: they cannot go on once it is
  // released, so release() gives their pins back too.
  const iterators = new Set<() => void>();
  const pin = pinCommit(tree, commit, undefined, iterators);
  const alive = (): void => {
    if (pin.released()) throw new BirchError('BIRCH_CLOSED', 'snapshot was released');
    storeAlive();
  };
  const state: SnapshotState = { alive, iterators, snapshot: undefined };
  return {
    state,
    release: pin.release,
    register: (snap) => {
      state.snapshot = snap;
      leaks.register(snap, pin.release, pin.token);
    },
  };
}
