/**
 * Group commit: the queue of modifying requests and when a batch runs.
 *
 * A request (one operation, or a user batch of several) joins the queue; if
 * no batch is running, one starts on a later turn of the event loop
 * (setImmediate: no timer, so a lone put is delayed by one turn only, yet
 * every request issued in the same turn joins it, and while the queue keeps
 * growing from turn to turn the batch waits for it, up to 2 ms). While a batch's append and fsync are in
 * flight, new requests queue up and form the next batch, started as soon as
 * the running one finishes. What a batch does is batch.ts.
 *
 * @internal
 */
import type { Op } from './mutate.js';

/**
 * A modifying request: one operation, or a user batch of them (applied
 * atomically, in order). One object per request, and the caller's own
 * promise functions, because a busy store makes millions of these.
 */
export interface Request {
  op: Op | Op[];
  /** Settled with the operation's result (delete, add, modify, cas, cad,
   * expire, persist: a boolean; incr: the new value; append: the new length)
   * or with undefined (put, a batch). */
  resolve(result?: boolean | bigint | number): void;
  reject(err: unknown): void;
}

/** A promise and the functions that settle it. */
export interface Shared {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/** One batch to run: requests and plain operations, in the order they were issued. */
export interface Batch {
  items: (Request | Op)[];
  /** The promise every plain operation of the batch returned, if any did. */
  shared: Shared | undefined;
}

export class GroupCommit {
  private queue: (Request | Op)[] = [];
  private shared: Shared | undefined;
  private running: Promise<void> | undefined;
  private scheduled = false;

  /** `run` applies and commits one batch; it settles everything in it and never rejects. */
  constructor(private readonly run: (batch: Batch) => Promise<void>) {}

  /** Queue a request for the next batch. */
  submit(req: Request): void {
    this.queue.push(req);
    this.schedule();
  }

  /**
   * Queue an operation whose caller needs no result of its own (a put): it
   * gets the promise every such operation of the same batch gets, settled
   * once the batch is durable (or failed). A busy store makes millions of
   * these: no promise, closure or request object per operation.
   */
  submitShared(op: Op): Promise<void> {
    this.queue.push(op);
    this.schedule();
    if (this.shared === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.shared = { promise, resolve, reject };
    }
    return this.shared.promise;
  }

  /** Resolves when no batch is running and none is queued. */
  async idle(): Promise<void> {
    while (this.running !== undefined || this.queue.length > 0 || this.scheduled) {
      await (this.running ?? new Promise((r) => setImmediate(r)));
    }
  }

  /** Whether a batch is running or requests are waiting. */
  get busy(): boolean {
    return this.running !== undefined || this.queue.length > 0;
  }

  /** Requests waiting for the next batch. */
  get queued(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.running !== undefined) return;
    this.scheduled = true;
    this.gatherSince = performance.now();
    this.gatherSeen = 0;
    setImmediate(this.start);
  }

  /**
   * Start a batch with what is queued, unless requests are still arriving:
   * while the queue grew since the last turn of the event loop (an
   * application issuing a burst across several turns, yielding between
   * them), wait another turn, for at most GATHER_MS. Bigger batches share
   * one append and one fsync, and rewrite each parent once for more writes.
   * A lone request waits one turn.
   */
  private readonly start = (): void => {
    this.scheduled = false;
    if (this.running !== undefined || this.queue.length === 0) return;
    const n = this.queue.length;
    if (n > this.gatherSeen && n < GATHER_MAX && performance.now() - this.gatherSince < GATHER_MS) {
      this.gatherSeen = n;
      this.scheduled = true;
      setImmediate(this.start);
      return;
    }
    const batch: Batch = { items: this.queue, shared: this.shared };
    this.queue = [];
    this.shared = undefined;
    this.running = this.run(batch).finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  };
  private gatherSince = 0;
  private gatherSeen = 0;
}

/** How long a batch may wait for requests that keep arriving, in milliseconds. */
const GATHER_MS = 2;
/** A queue this long starts its batch at once. */
const GATHER_MAX = 16384;
