/**
 * The B+tree: its committed root and everything read against it, the pins
 * that keep older commits readable, and the narrow surface the layers above
 * use (the api reads, submits requests and asks for figures; the cleaner
 * sees the log's extent, the oldest leaves and the batch hooks). The queue
 * of requests is group.ts; what one batch does is batch.ts.
 *
 * Reads (get, ranges, snapshots) use a committed root only: they never see
 * queued writes that have not committed, nor part of a batch.
 *
 * @internal
 */
import { BirchError, invariant } from '../errors.js';
import type { BlockStore } from '../lbs/index.js';
import { runBatch, type BatchTarget, type TreeHooks } from './batch.js';
import { NodeCache } from './cache.js';
import { checkTree, type CheckResult } from './check.js';
import { OldestLeaves } from './cleaning.js';
import { EMPTY_ROOT, type Commit } from './commit.js';
import { copyCommit, type CopyOptions } from './copy.js';
import { deadlineAt, sortKeyEnd, valueStart } from './entry.js';
import { lookupCopy, lookupLive } from './find.js';
import { GroupCommit, type Request } from './group.js';
import type { Op } from './mutate.js';
import { Leaf } from './node.js';
import { RangeIterator, type Bound, type MakeEntry } from './range.js';
import { records } from './records.js';
import { FLAG_ROOT, MIN_NODE_CAPACITY, TRAILER_MAGIC_1, TRAILER_SIZE, decodePage } from './serialize.js';

export interface TreeOptions {
  /** Node cache bound in bytes. */
  cacheSize: number;
  /** Check every balanced working tree in memory before it is written
   * (sanity.ts); a broken rule fails the batch with BIRCH_INTERNAL. */
  strict?: boolean;
  /** The clock deadlines are compared with, in ms since the epoch. Defaults to Date.now (tests inject one). */
  now?: () => number;
}

/** The facts about the log that the cleaner decides by: a read-only view of the block store. */
export interface LogView {
  /** The number the next appended block gets (the head of the log). */
  readonly nextBlock: number;
  /** The lowest block still on disk. */
  readonly firstBlock: number;
  /** First block of the segment file holding `block` (see BlockStore). */
  segmentStart(block: number): number;
  /** Set once a write or fsync failed: no more commits until reopened. */
  readonly failed: BirchError | undefined;
  readonly closed: boolean;
  readonly blockSize: number;
}

export interface TreeStats {
  cacheBytes: number;
  cacheLimit: number;
  cacheNodes: number;
  cacheHits: number;
  cacheMisses: number;
  /** Commits (appends) since open. */
  commits: number;
  /** Requests committed since open. */
  requests: number;
  /** Segment files deleted since open. */
  segmentsFreed: number;
}

export class Tree {
  /** The block store, seen read-only. */
  readonly log: LogView;
  /** Largest node page (without the commit trailer). */
  readonly nodeCapacity: number;
  private readonly lbs: BlockStore;
  private readonly cache: NodeCache;
  private readonly strict: boolean;
  /** The clock deadlines are compared with (ms since the epoch). */
  readonly now: () => number;
  private current: Commit;
  private readonly group: GroupCommit;
  private readonly hooks: TreeHooks[] = [];
  /** Pinned commits' oldest leaves, with how many pins each. */
  private readonly pins = new Map<number, number>();
  private commits = 0;
  private requests = 0;
  private segmentsFreed = 0;

  constructor(lbs: BlockStore, opts: TreeOptions) {
    this.lbs = lbs;
    this.log = lbs;
    this.nodeCapacity = lbs.pageCapacity - TRAILER_SIZE;
    invariant(this.nodeCapacity >= MIN_NODE_CAPACITY, `block size ${lbs.blockSize} is too small for the B+tree`);
    this.strict = opts.strict === true;
    this.now = opts.now ?? Date.now;
    this.cache = new NodeCache(lbs, opts.cacheSize);
    this.current = this.recover();
    const tree = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const target: BatchTarget = {
      lbs,
      cache: this.cache,
      nodeCapacity: this.nodeCapacity,
      strict: this.strict,
      hooks: this.hooks,
      get committed() {
        return tree.current;
      },
      publish: (next, replaced, requests) => this.publish(next, replaced, requests),
      now: () => this.now(),
    };
    this.group = new GroupCommit(async (batch) => {
      const info = await runBatch(target, batch);
      if (info === undefined) return;
      if (info.pagesWritten > 0) void this.releaseSpace();
      for (const h of this.hooks) h.afterCommit?.(info);
    });
  }

  /** The last committed root: the last block of the log (its commit trailer). */
  private recover(): Commit {
    if (this.lbs.nextBlock === 0) {
      const root = Leaf.empty();
      root.blockNo = EMPTY_ROOT;
      return { root, empty: true, seq: 0, keys: 0, internal: 0, pages: 1, height: 1, oldest: 0 };
    }
    const blockNo = this.lbs.nextBlock - 1;
    const payload = this.lbs.read(blockNo);
    // The page format's version is the commit trailer's magic: refuse an
    // older one by name rather than as damage.
    if (payload.length >= 4 && (payload[1]! & FLAG_ROOT) !== 0 && payload.readUInt32LE(payload.length - 4) === TRAILER_MAGIC_1) {
      throw new BirchError(
        'BIRCH_VERSION',
        `the store's pages are in the format of an earlier birch (commit trailer BRT1); this birch writes BRT3: export it with that birch (birch dump) and load it into a new store (birch load)`,
      );
    }
    const { node, trailer } = decodePage(payload, blockNo, (b) => this.lbs.locate(b));
    if (trailer === undefined) {
      throw new BirchError('BIRCH_CORRUPT', `last block ${blockNo} is not a root page`);
    }
    // Every block of a commit is at or above its oldest leaf, and segments are
    // only freed below the oldest leaf of a durable commit: a last commit that
    // reaches below the first block on disk means recovery cut away a damaged
    // append that HAD been acknowledged (its predecessor's pages are gone).
    if (trailer.oldest < this.lbs.firstBlock) {
      throw new BirchError(
        'BIRCH_CORRUPT',
        `the last commit (block ${blockNo}) needs block ${trailer.oldest}, below the first block on disk ${this.lbs.firstBlock}: the end of the log is damaged`,
      );
    }
    this.cache.insert(node);
    return { root: node, empty: false, ...trailer };
  }

  /** Make `next` the committed tree (batch.ts, once its commit is durable). */
  private publish(next: Commit, replaced: readonly number[], requests: number): void {
    if (next !== this.current) {
      // The replaced versions stay on disk for readers of older commits (who
      // read them back on demand); the cache keeps the live tree. With no
      // reader of an older commit, nothing can read them again: their
      // memory is reused (records.ts).
      const reuse = this.pins.size === 0;
      for (const b of replaced) {
        const node = this.cache.drop(b);
        if (reuse && node?.record !== undefined) {
          records.give(node.record, this.strict);
          node.record = undefined;
        }
      }
      this.current = next;
      this.commits++;
    }
    this.requests += requests;
  }

  /** The latest commit: what readers start from. */
  get committed(): Commit {
    return this.current;
  }

  /** Latest committed live value of the sort key `key`, as a buffer of its own. */
  get(key: Buffer): Buffer | undefined {
    return lookupCopy(this.cache, this.current.root, key, 0, key.length, this.now);
  }

  /** Live value of the sort key `kb[0, ke)` in `commit` (the latest, or a snapshot's), as a buffer of its own. */
  getIn(commit: Commit, kb: Uint8Array, ke: number): Buffer | undefined {
    return lookupCopy(this.cache, commit.root, kb, 0, ke, this.now);
  }

  /** The deadline of the sort key `key` in `commit`: 0 for none, undefined if absent or expired. */
  deadlineIn(commit: Commit, key: Buffer): number | undefined {
    const hit = lookupLive(this.cache, commit.root, key, 0, key.length, this.now);
    if (hit === undefined) return undefined;
    return deadlineAt(hit.leaf.bufAt(hit.index), hit.leaf.offs[hit.index]!);
  }

  /**
   * A lazy iterator over `commit` between the bounds; `onDone` runs once when
   * it finishes. Entries expired at `now()` are skipped (the purge passes a
   * clock reading 0 to see them too).
   */
  range<T>(
    commit: Commit,
    lo: Bound | undefined,
    hi: Bound | undefined,
    reverse: boolean,
    limit: number,
    make: (key: Buffer, value: Buffer) => T,
    onDone: () => void,
    now: () => number = this.now,
  ): RangeIterator<T> {
    const entry: MakeEntry<T> = (b, off) => {
      const vs = valueStart(b, off);
      return make(b.subarray(off + 1, sortKeyEnd(b, off)), b.subarray(vs, vs + b[vs - 1]!));
    };
    return new RangeIterator(this.cache, commit.root, lo, hi, reverse, limit, entry, onDone, now);
  }

  /**
   * The same, making each result from the entry in place (range.ts,
   * MakeEntry): no views made per entry, for the readers' hot path.
   */
  rangeEntries<T>(
    commit: Commit,
    lo: Bound | undefined,
    hi: Bound | undefined,
    reverse: boolean,
    limit: number,
    make: MakeEntry<T>,
    onDone: () => void,
  ): RangeIterator<T> {
    return new RangeIterator(this.cache, commit.root, lo, hi, reverse, limit, make, onDone, this.now);
  }

  /** The leaves of `commit`, oldest block first (for the cleaner). */
  oldestLeaves(commit: Commit): OldestLeaves {
    return new OldestLeaves(this.cache, commit);
  }

  /** Run `hooks` for every batch from now on, after those added before. */
  addHooks(hooks: TreeHooks): void {
    this.hooks.push(hooks);
  }

  /** Queue a request for the next group commit. */
  submit(req: Request): void {
    this.group.submit(req);
  }

  /** Queue an operation that needs no result of its own; resolves once its commit is durable (group.ts). */
  submitShared(op: Op): Promise<void> {
    return this.group.submitShared(op);
  }

  /** Run a commit now even with no requests queued (the cleaner's idle commit). */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.group.submit({ op: [], resolve: () => resolve(), reject }));
  }

  /** Resolves when no commit is running and none is queued. */
  idle(): Promise<void> {
    return this.group.idle();
  }

  /** Whether a commit is running or requests are waiting. */
  get busy(): boolean {
    return this.group.busy;
  }

  /** Requests waiting for the next commit. */
  get queued(): number {
    return this.group.queued;
  }

  /** Keep blocks of `commit` from being freed until unpin(). */
  pin(commit: Commit): void {
    this.pins.set(commit.oldest, (this.pins.get(commit.oldest) ?? 0) + 1);
  }

  unpin(commit: Commit): void {
    const n = this.pins.get(commit.oldest) ?? 0;
    if (n <= 1) this.pins.delete(commit.oldest);
    else this.pins.set(commit.oldest, n - 1);
  }

  /** Every block a reader may still need is at or above this number. */
  get freeFloor(): number {
    let floor = this.current.empty ? this.lbs.nextBlock : this.current.oldest;
    for (const o of this.pins.keys()) if (o < floor) floor = o;
    return floor;
  }

  /** Give the block store back every segment no reader needs (advisory; never rejects). */
  releaseSpace(): Promise<void> {
    if (this.lbs.closed) return Promise.resolve();
    return this.lbs.free(this.freeFloor).then(
      (n) => {
        this.segmentsFreed += n;
      },
      () => undefined, // advisory: a failed unlink leaves its segment listed, and the next free retries it
    );
  }

  stats(): TreeStats {
    const c = this.cache;
    return {
      cacheBytes: c.usedBytes,
      cacheLimit: c.limit,
      cacheNodes: c.size,
      cacheHits: c.hits,
      cacheMisses: c.misses,
      commits: this.commits,
      requests: this.requests,
      segmentsFreed: this.segmentsFreed,
    };
  }

  /**
   * Append every page of `commit` to the empty block store `dst`, in the
   * order a commit writes them (copy.ts); resolves with the pages copied.
   * The caller keeps `commit` pinned until it resolves.
   */
  copyTo(commit: Commit, dst: BlockStore, opts: CopyOptions): Promise<number> {
    return copyCommit(this.lbs, commit, dst, opts);
  }

  /** Walk and verify every page of the committed tree, read from disk (check.ts). */
  check(): CheckResult {
    return checkTree(this.lbs, this.current, this.nodeCapacity);
  }
}
