/**
 * The background cleaner: keeps disk use bounded with no compaction step.
 *
 * Once a second the cleaning debt grows with the garbage on disk (debt.ts).
 * While it is positive, each batch the tree builds starts by dirtying the
 * oldest leaves (found through the oldest-leaf pointers) that lie more than
 * half a tree behind the head of the log (younger ones would be cleaned again
 * soon for nothing: this is what keeps a bulk load from being cleaned while
 * it is written), so the commit that
 * carries the users' writes also rewrites them at the head of the log; after
 * every commit the tree frees the segments below the oldest block any reader
 * still needs. When the store is idle the cleaner commits on its own. Work is
 * done in slices of at most max(`sliceLeaves`, the batch's own operations)
 * leaves per commit, so neither the event loop nor user writes wait on a
 * large clean, yet cleaning keeps pace with heavy writing.
 *
 * Cleaning only acts while garbage is more than a third of the pages on disk
 * (disk use above 1.5x the live pages). Below that, rewriting the oldest
 * leaves mostly rewrites live pages to free a few dead ones: a bulk load in
 * key order, whose only garbage is the parents it rewrites, is not cleaned at
 * all. The debt still accrues meanwhile, so cleaning resumes at once when the
 * threshold is crossed.
 *
 * The cleaner keeps no state on disk: after reopen the debt starts at zero
 * and grows again from the garbage it finds.
 *
 * @internal
 */
import { collectOldestLeaves, type Tree } from '../btree/index.js';
import { CleaningDebt } from './debt.js';

export interface CleanerOptions {
  /** Storage-to-I/O cost ratio (see debt.ts); 0 turns cleaning off. */
  cleaning: number;
  /** Most leaves dirtied per commit. Defaults to 256. */
  sliceLeaves?: number;
  /** Milliseconds between ticks. Defaults to 1000. */
  intervalMs?: number;
  /** Clock in ms. Defaults to performance.now. */
  now?: () => number;
}

export interface CleanerStats {
  /** Live pages times the block size. */
  liveBytes: number;
  /** 1 - live pages / pages on disk. */
  garbageRatio: number;
  cleaningDebt: number;
  /** Leaves rewritten by the cleaner. */
  pagesCleaned: number;
  segmentsFreed: number;
}

export class Cleaner {
  readonly debt: CleaningDebt;
  private readonly tree: Tree;
  private readonly slice: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private idleRun: Promise<void> | undefined;
  private stopping = false;
  /** reclaim(): dirty every leaf below this block, whatever the debt. */
  private reclaimBelow = 0;
  pagesCleaned = 0;

  constructor(tree: Tree, opts: CleanerOptions) {
    this.tree = tree;
    this.debt = new CleaningDebt(opts.cleaning);
    this.slice = opts.sliceLeaves ?? 256;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.now = opts.now ?? (() => performance.now());
    tree.onBatch = (work, committed, ops) => {
      const slice = Math.max(this.slice, ops);
      const want = this.reclaimBelow > 0 ? slice : this.worthCleaning() ? Math.min(slice, Math.ceil(this.debt.debt)) : 0;
      if (want <= 0) return;
      const below =
        this.reclaimBelow > 0 ? this.reclaimBelow : tree.lbs.nextBlock - Math.floor(committed.pages / 2);
      const keys = collectOldestLeaves(tree.cache, committed, want, below);
      for (const k of keys) work.touch(k);
      this.pagesCleaned += keys.length;
    };
    tree.onCommit = (info) => {
      if (this.debt.rate <= 0) return;
      const l = tree.lbs;
      const next = l.nextBlock - info.pagesWritten; // the log's head before this commit
      this.debt.credit(info.rewritten, next - l.firstBlock, next, tree.committed.pages);
    };
  }

  /** Whether garbage exceeds a third of the disk (and cleaning is on). */
  worthCleaning(): boolean {
    const l = this.tree.lbs;
    const onDisk = l.nextBlock - l.firstBlock;
    return this.debt.rate > 0 && 3 * (onDisk - this.tree.committed.pages) > onDisk;
  }

  /** Start the once-a-second clock (no-op when cleaning is off). */
  start(): void {
    if (this.debt.rate <= 0 || this.timer !== undefined) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One tick of the clock; commits on its own if the store is idle. */
  tick(): void {
    const c = this.tree.committed;
    const l = this.tree.lbs;
    if (l.closed) return;
    this.debt.tick(this.now(), l.nextBlock - l.firstBlock, c.pages);
    if (this.debt.debt >= 1 && this.worthCleaning() && !this.tree.busy && this.idleRun === undefined) {
      this.idleRun = this.cleanWhileIdle().finally(() => (this.idleRun = undefined));
    }
  }

  private async cleanWhileIdle(): Promise<void> {
    // Our own flush's commit may still be winding down when it resolves, so
    // the test is for user requests waiting; when there are some, cleaning
    // rides their commits instead.
    while (!this.stopping && this.debt.debt >= 1 && this.worthCleaning() && this.tree.queued === 0 && !this.tree.lbs.failed) {
      const before = this.pagesCleaned;
      try {
        await this.tree.flush();
      } catch {
        return; // the failure is the store's; user writes will report it
      }
      if (this.pagesCleaned === before) return; // nothing left to clean
    }
  }

  /** Rewrite every leaf older than the head of the log now, then free the space. */
  async reclaim(): Promise<void> {
    await this.tree.idle();
    const target = this.tree.lbs.nextBlock;
    this.reclaimBelow = Math.max(this.reclaimBelow, target);
    try {
      while (!this.stopping && this.tree.committed.oldest < target && this.tree.committed.root.blockNo >= 0) {
        const before = this.pagesCleaned;
        await this.tree.flush();
        if (this.pagesCleaned === before) break;
      }
    } finally {
      this.reclaimBelow = 0;
    }
    await this.tree.releaseSpace();
  }

  stats(): CleanerStats {
    const c = this.tree.committed;
    const l = this.tree.lbs;
    const onDisk = l.nextBlock - l.firstBlock;
    return {
      liveBytes: c.pages * l.blockSize,
      garbageRatio: onDisk === 0 ? 0 : Math.max(0, 1 - c.pages / onDisk),
      cleaningDebt: this.debt.debt,
      pagesCleaned: this.pagesCleaned,
      segmentsFreed: this.tree.segmentsFreed,
    };
  }

  /** Stop the clock and wait for an idle clean in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.idleRun;
  }
}
