/**
 * The B+tree: the committed root, reads against it, and group commit of
 * modifying requests.
 *
 * Group commit: a request (one operation, or a user batch of several) joins
 * the queue; if no commit is running, one starts on the next turn of the
 * event loop (setImmediate: no timer, so a lone put is not delayed, yet every
 * request issued in the same turn joins it). While a commit's append and
 * fsync are in flight, new requests queue up and form the next batch. One
 * batch = apply every request in order to a working copy, rebalance once,
 * ONE append, ONE fsync; then every promise of the batch resolves together,
 * after the new root became the one readers see.
 *
 * Reads (get, ranges, snapshots) use the committed root only: they never see
 * queued writes that have not committed, nor part of a batch.
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import type { BlockStore } from '../lbs/index.js';
import { Balancer } from './balance.js';
import { NodeCache } from './cache.js';
import { EMPTY_ROOT, writeCommit, type Commit } from './commit.js';
import { lookupCopy } from './find.js';
import { WorkingTree, type Op } from './mutate.js';
import { Leaf } from './node.js';
import { decodePage, MIN_NODE_CAPACITY, TRAILER_SIZE } from './serialize.js';

export interface TreeOptions {
  /** Node cache bound in bytes. */
  cacheSize: number;
}

/**
 * A modifying request: one operation, or a user batch of them (applied
 * atomically, in order). One object per request, and the caller's own
 * promise functions, because a busy store makes millions of these.
 */
export interface Request {
  op: Op | Op[];
  /** Settled with the operation's result (delete, add, modify, cas, cad) or
   * with undefined (put, a batch). */
  resolve(result?: boolean): void;
  reject(err: unknown): void;
}

/**
 * Called once a batch's `ops` operations have applied, before it rebalances
 * and commits. It may return a promise (to yield the event loop between
 * slices of its own work); the batch waits for it. Nothing else touches the
 * working tree meanwhile: new requests queue for the next batch, and readers
 * see only the committed root.
 */
export type BatchHook = (work: WorkingTree, committed: Commit, ops: number) => void | Promise<void>;

export interface CommitInfo {
  requests: number;
  pagesWritten: number;
  /** Old block numbers of the leaves the commit rewrote. */
  rewritten: number[];
}

export class Tree {
  readonly lbs: BlockStore;
  readonly cache: NodeCache;
  /** Largest node page (without the commit trailer). */
  readonly nodeCapacity: number;
  private current: Commit;
  private queue: Request[] = [];
  private running: Promise<void> | undefined;
  private scheduled = false;
  private readonly pins = new Map<number, number>();
  /** Hooks of the layers above (the cleaner). */
  onBatch: BatchHook | undefined;
  onCommit: ((info: CommitInfo) => void) | undefined;
  commits = 0;
  requests = 0;
  segmentsFreed = 0;

  constructor(lbs: BlockStore, opts: TreeOptions) {
    this.lbs = lbs;
    this.nodeCapacity = lbs.pageCapacity - TRAILER_SIZE;
    if (this.nodeCapacity < MIN_NODE_CAPACITY) {
      throw new BirchError(
        'BIRCH_BAD_ARGUMENT',
        `block size ${lbs.blockSize} is too small for the B+tree: 255-byte keys and values need 2048 or more`,
      );
    }
    this.cache = new NodeCache(lbs, opts.cacheSize);
    this.current = this.recover();
  }

  /** The last committed root: the last block of the log (its commit trailer). */
  private recover(): Commit {
    if (this.lbs.nextBlock === 0) {
      const root = Leaf.empty();
      root.blockNo = EMPTY_ROOT;
      return { root, seq: 0, keys: 0, pages: 1, height: 1, oldest: 0 };
    }
    const blockNo = this.lbs.nextBlock - 1;
    const { node, trailer } = decodePage(this.lbs.read(blockNo), blockNo);
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
    return { root: node, ...trailer };
  }

  get committed(): Commit {
    return this.current;
  }

  /** Latest committed value of `key`, as a buffer of its own. */
  get(key: Buffer): Buffer | undefined {
    return this.lookupIn(this.current, key);
  }

  /** Value of `key` in an older commit (a snapshot's view). */
  lookupIn(commit: Commit, key: Buffer): Buffer | undefined {
    return lookupCopy(this.cache, commit.root, key);
  }

  /** Give the block store back every segment no reader needs (advisory; never rejects). */
  releaseSpace(): Promise<void> {
    if (this.lbs.closed) return Promise.resolve();
    return this.lbs.free(this.freeFloor).then(
      (n) => {
        this.segmentsFreed += n;
      },
      () => undefined, // advisory: a failed unlink leaves a file that the next free retries
    );
  }

  /** Queue a request for the next group commit. */
  submit(req: Request): void {
    this.queue.push(req);
    this.schedule();
  }

  /** Run a commit now even with no requests queued (the cleaner's idle commit). */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.submit({ op: [], resolve: () => resolve(), reject }));
  }

  /** Resolves when no commit is running and none is queued. */
  async idle(): Promise<void> {
    while (this.running !== undefined || this.queue.length > 0 || this.scheduled) {
      await (this.running ?? new Promise((r) => setImmediate(r)));
    }
  }

  get busy(): boolean {
    return this.running !== undefined || this.queue.length > 0;
  }

  /** Requests waiting for the next commit. */
  get queued(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.running !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.running !== undefined || this.queue.length === 0) return;
      this.running = this.runBatch().finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    const prev = this.current;
    const results = new Uint8Array(batch.length);
    let pagesWritten = 0;
    let rewritten: number[] = [];
    try {
      const work = new WorkingTree(this.cache, prev.root);
      let ops = 0;
      for (let i = 0; i < batch.length; i++) {
        const op = batch[i]!.op;
        if (Array.isArray(op)) {
          for (const o of op) work.apply(o);
          ops += op.length;
        } else {
          results[i] = work.apply(op) ? 1 : 0;
          ops++;
        }
      }
      if (this.onBatch !== undefined) await this.onBatch(work, prev, ops);
      if (work.dirtied > 0) {
        const { root, pagesDelta } = new Balancer(this.cache, this.nodeCapacity, work.superseded).run(work.root);
        const before = this.lbs.nextBlock;
        const next = await writeCommit(this.lbs, this.cache, prev, root, work.keysDelta, pagesDelta);
        pagesWritten = this.lbs.nextBlock - before;
        rewritten = work.rewritten;
        // The replaced versions stay on disk for readers of older commits
        // (who read them back on demand); the cache keeps the live tree.
        for (const b of work.superseded) this.cache.drop(b);
        this.current = next;
        this.commits++;
      }
    } catch (err) {
      for (const req of batch) req.reject(err);
      return;
    }
    this.requests += batch.length;
    for (let i = 0; i < batch.length; i++) {
      const req = batch[i]!;
      if (Array.isArray(req.op) || req.op.t === 'put') req.resolve();
      else req.resolve(results[i] === 1);
    }
    if (pagesWritten > 0) void this.releaseSpace();
    this.onCommit?.({ requests: batch.length, pagesWritten, rewritten });
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
    let floor = this.current.root.blockNo < 0 ? this.lbs.nextBlock : this.current.oldest;
    for (const o of this.pins.keys()) if (o < floor) floor = o;
    return floor;
  }
}
