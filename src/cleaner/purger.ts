/**
 * The background purge: expired entries, and the keys of dropped tables,
 * become real deletes, so that key counts and disk use do not keep dead
 * keys.
 *
 * Readers never need it: an expired entry is invisible from the instant its
 * deadline passes (decided at read time, btree/range.ts and find.ts), and a
 * dropped table's keys are unreachable once its catalog entry is gone. The
 * purge only reclaims. It is made of the B+tree's ordinary operations in
 * ordinary commits, so it needs no crash handling of its own: a commit that
 * did not complete purged nothing, and the next batch after a reopen finds
 * the same work in the committed tree and goes on.
 *
 * Where the work is found (btree/entry.ts):
 *
 * - The expiry index (KS_EXPIRY) holds one entry per entry with a deadline,
 *   keyed by the deadline (u64 big-endian) then the entry's sort key, so the
 *   entries due at `now` are a prefix of it. For each, a `purge` operation
 *   (btree/mutate.ts) deletes the entry and its index entry if the deadline
 *   still matches and has passed, or drops the index entry if it is stale.
 * - A dropped table leaves a marker (KS_DROPPED, keyed by the table's id as
 *   a varint). Its keys are the KS_TABLES range prefixed by that varint:
 *   they are deleted with `del`, expired ones included, and once none is
 *   left the marker goes, in the same commit as the last of them.
 *
 * When: in every batch (a beforeCommit hook, after the batch's own
 * operations, so a key the batch rewrote is judged by its new deadline), at
 * most `limit = max(slice, ops)` expired entries and as many operations on
 * dropped tables. The slice (256) is the cleaner's: a user write never waits
 * on more than about a slice of extra leaf rewrites, and since each
 * operation of a batch can make at most one entry with a deadline, a purge
 * of at least `ops` per batch keeps pace with any rate of expiring writes.
 * The event loop is yielded after every slice. On an idle store a clock
 * (every second by default) commits on its own while something is due and
 * nothing else is queued; a commit without user operations (the purge's own
 * or the cleaner's idle commits) takes eight slices, since no one waits on it.
 *
 * Cost when there is nothing to purge: a store whose committed tree holds no
 * internal entry (no deadline, no table) pays one comparison per batch; one
 * with tables but nothing due pays two descents of cached parents.
 *
 * The clock is the tree's (`Tree.now`): set back, it keeps keys alive (and
 * unpurged) longer; set forward, it expires and purges them early.
 *
 * @internal
 */
import { KS_DROPPED, KS_EXPIRY, KS_TABLES, type Bound, type Commit, type Tree, type WorkingTree } from '../btree/index.js';

export interface PurgerOptions {
  /** Expired entries purged per batch at the least (more in bigger
   * batches), and operations between yields of the event loop. Defaults to 256. */
  slice?: number;
  /** Slices a commit without user operations may take. Defaults to 8. */
  idleSlices?: number;
  /** Milliseconds between the idle checks. Defaults to 1000. */
  intervalMs?: number;
}

export interface PurgerStats {
  /** Expired keys deleted by the background purge since open. */
  keysPurged: number;
  /** Keys of dropped tables deleted by the background purge since open. */
  droppedKeysPurged: number;
  /** Dropped tables whose last key the purge deleted (their markers removed) since open. */
  tablesDropped: number;
}

/** Let the event loop run other work (reads, new requests) before going on. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const copyKey = (key: Buffer): Buffer => Buffer.from(key);
const nothing = (): void => undefined;
/** A clock reading before every deadline: ranges read with it skip no expired entry. */
const beforeAll = (): number => 0;

const EXPIRY_LO: Bound = { key: Buffer.from([KS_EXPIRY]), inclusive: true };
const DROPPED_LO: Bound = { key: Buffer.from([KS_DROPPED]), inclusive: true };
const DROPPED_HI: Bound = { key: Buffer.from([KS_DROPPED + 1]), inclusive: false };

/** Above every expiry-index sort key with a deadline at or before `now`: [KS_EXPIRY] + u64 BE (floor(now) + 1). */
function dueBound(now: number): Bound {
  const t = Math.max(0, Math.floor(now) + 1);
  const key = Buffer.allocUnsafe(9);
  key[0] = KS_EXPIRY;
  key.writeUInt32BE(Math.floor(t / 0x1_0000_0000) >>> 0, 1);
  key.writeUInt32BE(t >>> 0, 5);
  return { key, inclusive: false };
}

/**
 * The KS_TABLES range of the table a marker names: its sort key and the
 * first sort key past it, or undefined if the marker's key is not one
 * varint (7 bits a byte, the high bit on every byte but the last). A varint
 * is never a prefix of another, so the range holds that table's keys only;
 * and its last byte is below 0x80, so the end is that byte plus one.
 */
export function tableRange(marker: Buffer): { lo: Bound; hi: Bound } | undefined {
  const n = marker.length - 1; // the marker's sort key: [KS_DROPPED, ...varint]
  if (n < 1 || n > 10) return undefined;
  for (let i = 1; i < n; i++) if (marker[i]! < 0x80) return undefined;
  if (marker[n]! >= 0x80) return undefined;
  const lo = Buffer.from(marker);
  lo[0] = KS_TABLES;
  const hi = Buffer.from(lo);
  hi[n] = lo[n]! + 1;
  return { lo: { key: lo, inclusive: true }, hi: { key: hi, inclusive: false } };
}

export class Purger {
  private readonly tree: Tree;
  private readonly slice: number;
  /** Operations a commit without user operations may take (a user request that joins it waits on at most that). */
  private readonly idleLimit: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private idleRun: Promise<void> | undefined;
  private stopping = false;
  /** Operations the purge has applied since open (the idle loop's measure of progress). */
  private applied = 0;
  keysPurged = 0;
  droppedKeysPurged = 0;
  tablesDropped = 0;

  constructor(tree: Tree, opts: PurgerOptions = {}) {
    this.tree = tree;
    this.slice = Math.max(1, Math.floor(opts.slice ?? 256));
    this.idleLimit = this.slice * Math.max(1, Math.floor(opts.idleSlices ?? 8));
    this.intervalMs = opts.intervalMs ?? 1000;
    tree.addHooks({
      // A batch without user operations (an idle commit, the purge's own or
      // the cleaner's) has no one waiting on it: it takes several slices.
      beforeCommit: (work, committed, ops) => this.purge(work, committed, ops === 0 ? this.idleLimit : Math.max(this.slice, ops)),
    });
  }

  /** The sort keys of up to `limit` expiry-index entries of `committed` due at `now`, earliest first. */
  private due(committed: Commit, now: number, limit: number): Buffer[] {
    return [...this.tree.range(committed, EXPIRY_LO, dueBound(now), false, limit, copyKey, nothing)];
  }

  /** The sort keys of up to `limit` dropped-table markers of `committed`. */
  private markers(committed: Commit, limit: number): Buffer[] {
    return [...this.tree.range(committed, DROPPED_LO, DROPPED_HI, false, limit, copyKey, nothing)];
  }

  /**
   * The batch's purge (see the file comment): synchronous and allocation-free
   * when `committed` holds no internal entry, a promise only when there is
   * something to do.
   */
  private purge(work: WorkingTree, committed: Commit, limit: number): void | Promise<void> {
    if (committed.internal === 0) return; // no expiry index, no markers (and no catalog)
    const due = this.due(committed, work.now, limit);
    const markers = this.markers(committed, limit);
    if (due.length === 0 && markers.length === 0) return;
    return this.run(work, committed, due, markers, limit);
  }

  private async run(work: WorkingTree, committed: Commit, due: Buffer[], markers: Buffer[], limit: number): Promise<void> {
    let n = 0; // operations applied, yielding after every slice
    for (const key of due) {
      // 2 keys (the entry and its index entry), 1 of them internal: one purged; a stale index entry: 1 and 1.
      const keys = work.keysDelta;
      const internal = work.internalDelta;
      work.apply({ kind: 'purge', key });
      this.keysPurged += keys - work.keysDelta - (internal - work.internalDelta);
      if (++n % this.slice === 0) await nextTurn();
    }
    let budget = limit;
    for (const marker of markers) {
      if (budget === 0) break;
      const range = tableRange(marker);
      if (range !== undefined) {
        for (const key of this.tree.range(committed, range.lo, range.hi, false, budget, copyKey, nothing, beforeAll)) {
          // Counted as deleted unless this batch's purge of expired entries took it first.
          const keys = work.keysDelta;
          const internal = work.internalDelta;
          work.apply({ kind: 'del', key });
          this.droppedKeysPurged += keys - work.keysDelta - (internal - work.internalDelta);
          budget--;
          if (++n % this.slice === 0) await nextTurn();
        }
        // The range ended before the budget: no key of the table is left
        // (the batch cannot add any: the table's id is dead). Exactly at
        // the budget, a later batch finds the range empty and goes on.
        if (budget === 0) break;
      }
      work.apply({ kind: 'del', key: marker });
      this.tablesDropped++;
      budget--;
      if (++n % this.slice === 0) await nextTurn();
    }
    this.applied += n;
  }

  /** Whether an idle commit would purge something now. */
  wantsToPurge(): boolean {
    const committed = this.tree.committed;
    if (committed.internal === 0) return false;
    return this.due(committed, this.tree.now(), 1).length > 0 || this.markers(committed, 1).length > 0;
  }

  /** Start the idle clock (unref'd: it keeps no process alive). */
  start(): void {
    if (this.timer !== undefined || this.stopping) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * One tick of the clock: if the store is idle and something is due, commit
   * on our own. Never throws: a failed or closed store stops the clock (user
   * writes report the failure), and a read error leaves the work to a later
   * tick or batch.
   */
  tick(): void {
    const log = this.tree.log;
    if (log.closed || log.failed !== undefined) {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.stopping || this.tree.busy || this.idleRun !== undefined) return;
    try {
      if (!this.wantsToPurge()) return;
    } catch {
      return;
    }
    this.idleRun = this.purgeWhileIdle().finally(() => (this.idleRun = undefined));
  }

  private async purgeWhileIdle(): Promise<void> {
    // As the cleaner's idle commits: our own flush's commit may still be
    // winding down when it resolves, so the test is for user requests
    // waiting; when there are some, the purge rides their commits instead.
    const tree = this.tree;
    try {
      while (!this.stopping && tree.queued === 0 && !tree.log.closed && tree.log.failed === undefined && this.wantsToPurge()) {
        const before = this.applied;
        await tree.flush();
        if (this.applied === before) return; // nothing purged (a clock set back, say): the next tick looks again
      }
    } catch {
      // The failure is the store's; user writes will report it.
    }
  }

  stats(): PurgerStats {
    return { keysPurged: this.keysPurged, droppedKeysPurged: this.droppedKeysPurged, tablesDropped: this.tablesDropped };
  }

  /** Stop the clock and wait for an idle purge in progress. Batches still purge as they commit. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.idleRun;
  }
}
