/**
 * The background cleaner: keeps disk use bounded with no compaction step.
 *
 * Old leaves are rewritten at the head of the log by ordinary commits: once
 * a batch's own operations have applied, the cleaner dirties some of the
 * oldest leaves (found best-first through the oldest-leaf pointers), so the
 * same commit rewrites them; after every commit the tree frees the segments
 * below the oldest block any reader still needs. Two rules decide how many:
 *
 * - The pacer bounds the span of the log that cleaning can shorten (from
 *   the oldest live leaf to the head) by `spaceTarget` times the live pages.
 *   It takes the oldest leaves until the oldest one left lies far enough
 *   ahead that, after this commit's pages (the batch's own and the rewritten
 *   ones), the span is back at the target, or 1/8 of the way there if it is
 *   above. So the log stops growing at the target whatever the write rate,
 *   and the pacer does nothing while a commit still fits under it.
 * - Below the target, kivaloo's cleaning debt (debt.ts) decides: once a
 *   second it grows with the garbage on disk, every rewritten leaf pays it
 *   back by its age, and while it is positive and disk use (from the start
 *   of the oldest live leaf's segment file) is above 1.25 times the live
 *   pages, up to `debt` of the oldest leaves are rewritten. This is what
 *   brings an idle store back down, including the dead part of the oldest
 *   segment file, which the pacer does not count. An update pass in key
 *   order is left alone: it rewrites the oldest leaves itself, and each
 *   rewrite pays the debt back almost whole.
 *
 * Neither rule takes a leaf less than half a tree behind the head (it would
 * soon be rewritten again), so a bulk load in key order is not cleaned. At
 * most max(`sliceLeaves`, the batch's operations) leaves per commit for the
 * debt, twice that for the pacer, so user writes never wait on a large
 * clean, yet cleaning keeps pace with heavy writing; and the event loop is
 * yielded after every `sliceLeaves` leaves. When the store is idle the
 * cleaner commits on its own.
 *
 * The cleaner keeps no state on disk: after reopen the debt starts at zero
 * and grows again from the garbage it finds.
 *
 * @internal
 */
import type { Commit, Tree, WorkingTree } from '../btree/index.js';
import { CleaningDebt } from './debt.js';

export interface CleanerOptions {
  /** Storage-to-I/O cost ratio (see debt.ts); 0 turns cleaning off. */
  cleaning: number;
  /** Most pages the log may span from its oldest live leaf, as a multiple of
   * the live pages. Defaults to DEFAULT_SPACE_TARGET. */
  spaceTarget?: number;
  /** The slice: leaves a commit may clean at the least (more in bigger
   * batches), and leaves dirtied between yields of the event loop.
   * Defaults to 256. */
  sliceLeaves?: number;
  /** Milliseconds between ticks. Defaults to 1000. */
  intervalMs?: number;
  /** Clock in ms. Defaults to performance.now. */
  now?: () => number;
}

/** Default `spaceTarget`: the log spans at most 1.5 times the live pages. */
export const DEFAULT_SPACE_TARGET = 1.5;

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

/** Let the event loop run other work (reads, new requests) before going on. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The pacer pays off an excess over the space target over this many commits. */
const CATCH_UP_COMMITS = 8;

/**
 * The debt acts only while the disk that cleaning can shrink (from the start
 * of the oldest live leaf's segment file to the head) exceeds this many
 * times the live pages.
 */
const DEBT_GATE = 1.25;

export class Cleaner {
  readonly debt: CleaningDebt;
  readonly spaceTarget: number;
  private readonly tree: Tree;
  /** Leaves dirtied between yields of the event loop, and the least a commit may clean. */
  private readonly sliceLeaves: number;
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
    this.spaceTarget = opts.spaceTarget ?? DEFAULT_SPACE_TARGET;
    this.sliceLeaves = opts.sliceLeaves ?? 256;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.now = opts.now ?? (() => performance.now());
    tree.addHooks({
      beforeCommit: async (work, committed, ops) => {
        // Count the leaves cleaning copied, not those the batch had dirtied already.
        const before = work.leavesCopied.length;
        try {
          await this.clean(work, committed, Math.max(this.sliceLeaves, ops));
        } finally {
          this.pagesCleaned += work.leavesCopied.length - before;
        }
      },
      afterCommit: (info) => {
        if (this.debt.rate <= 0) return;
        const log = tree.log;
        const head = log.nextBlock - info.pagesWritten; // the log's head before this commit
        this.debt.credit(info.leavesRewritten, head - log.firstBlock, head, tree.committed.pages);
      },
    });
  }

  /** The span's excess over the target, in pages (negative: room left). */
  private excess(committed: Commit): number {
    return this.tree.log.nextBlock - committed.oldest - this.spaceTarget * committed.pages;
  }

  /** Whether the debt rule would act now. */
  private owed(committed: Commit): boolean {
    const log = this.tree.log;
    return this.debt.debt >= 1 && log.nextBlock - log.segmentStart(committed.oldest) > DEBT_GATE * committed.pages;
  }

  /** Whether an idle commit would clean something now. */
  wantsToClean(): boolean {
    const committed = this.tree.committed;
    if (committed.empty) return false;
    if (this.reclaimBelow > 0) return true;
    return this.debt.rate > 0 && (this.excess(committed) > 0 || this.owed(committed));
  }

  /**
   * Dirty the leaves this commit should rewrite (see the file comment), at
   * most `limit` for the debt and reclaim(), twice that for the pacer;
   * resolves with how many it took. Yields the event loop after every
   * `sliceLeaves` leaves, so a large clean inside a big batch never holds it
   * for long.
   */
  async clean(work: WorkingTree, committed: Commit, limit: number): Promise<number> {
    if (committed.empty) return 0;
    const leaves = this.tree.oldestLeaves(committed);
    let taken = 0;
    /** Dirty the oldest leaf left while `more()`, yielding every `sliceLeaves`. */
    const takeWhile = async (more: () => boolean): Promise<number> => {
      while (more()) {
        work.touch(leaves.take()!);
        if (++taken % this.sliceLeaves === 0) await nextTurn();
      }
      return taken;
    };
    if (this.reclaimBelow > 0) return takeWhile(() => taken < limit && leaves.next < this.reclaimBelow);
    if (this.debt.rate <= 0) return 0;
    const oldest = committed.oldest;
    const young = this.tree.log.nextBlock - Math.floor(committed.pages / 2);
    // Pacer. After the commit the span is (head + work.dirtied) - leaves.next,
    // and work.dirtied grows with every leaf (and parent) touched.
    const excess = this.excess(committed);
    const allowed = excess > 0 ? excess / CATCH_UP_COMMITS : excess;
    await takeWhile(() => taken < 2 * limit && leaves.next < young && leaves.next - oldest < work.dirtied + allowed);
    if (taken > 0 || !this.owed(committed)) return taken;
    // The debt.
    const want = Math.min(limit, Math.ceil(this.debt.debt));
    return takeWhile(() => taken < want && leaves.next < young);
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
    const log = this.tree.log;
    if (log.closed) return;
    this.debt.tick(this.now(), log.nextBlock - log.firstBlock, this.tree.committed.pages);
    if (!this.tree.busy && this.idleRun === undefined && this.wantsToClean()) {
      this.idleRun = this.cleanWhileIdle().finally(() => (this.idleRun = undefined));
    }
  }

  private async cleanWhileIdle(): Promise<void> {
    // Our own flush's commit may still be winding down when it resolves, so
    // the test is for user requests waiting; when there are some, cleaning
    // rides their commits instead.
    const tree = this.tree;
    while (!this.stopping && tree.queued === 0 && !tree.log.failed && this.wantsToClean()) {
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
    const target = this.tree.log.nextBlock;
    this.reclaimBelow = Math.max(this.reclaimBelow, target);
    try {
      while (!this.stopping && this.tree.committed.oldest < target && !this.tree.committed.empty) {
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
    const live = this.tree.committed.pages;
    const log = this.tree.log;
    const onDisk = log.nextBlock - log.firstBlock;
    return {
      liveBytes: live * log.blockSize,
      garbageRatio: onDisk === 0 ? 0 : Math.max(0, 1 - live / onDisk),
      cleaningDebt: this.debt.debt,
      pagesCleaned: this.pagesCleaned,
      segmentsFreed: this.tree.stats().segmentsFreed,
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
