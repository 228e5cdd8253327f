/**
 * One batch of the group commit, as a list of steps:
 *
 * 1. apply every request's operations, in order, to a working copy of the
 *    committed tree (mutate.ts);
 * 2. run the hooks of the layers above (the cleaner dirties old leaves);
 * 3. rebalance once (balance.ts) and, in strict mode, check the result in
 *    memory (sanity.ts);
 * 4. write it: one append, one fsync (commit.ts);
 * 5. publish the new commit, then resolve every request with its result.
 *
 * Steps 1, 3 and 4 yield the event loop whenever they have held it for a
 * slice (slice.ts), so a large batch never stalls the application.
 *
 * A batch that changed nothing writes nothing. If any step fails, every
 * request of the batch is rejected with that error and the committed tree
 * stays as it was.
 *
 * @internal
 */
import type { NodeCache } from './cache.js';
import { Balancer } from './balance.js';
import { writeCommit, type Commit } from './commit.js';
import type { Batch, Request } from './group.js';
import { WorkingTree, type Op, type OpResult } from './mutate.js';
import { BirchError } from '../errors.js';
import { checkWorkingTree } from './sanity.js';
import { Slicer } from './slice.js';
import type { BlockStore } from '../lbs/index.js';

/** What one committed batch did, for the hooks that run after it. */
export interface CommitInfo {
  requests: number;
  pagesWritten: number;
  /** Old block numbers of the leaves the commit rewrote (not its parents). */
  leavesRewritten: number[];
}

/**
 * Called once a batch's `ops` operations have applied, before it rebalances
 * and commits. It may return a promise (to yield the event loop between
 * slices of its own work); the batch waits for it. Nothing else touches the
 * working tree meanwhile: new requests queue for the next batch, and readers
 * see only the committed root.
 */
export type BatchHook = (work: WorkingTree, committed: Commit, ops: number) => void | Promise<void>;

/** Hooks of a layer above (the cleaner), run for every batch in the order added. */
export interface TreeHooks {
  beforeCommit?: BatchHook;
  afterCommit?: (info: CommitInfo) => void;
}

/** What a batch needs from the tree it commits to. */
export interface BatchTarget {
  readonly lbs: BlockStore;
  readonly cache: NodeCache;
  readonly nodeCapacity: number;
  readonly strict: boolean;
  readonly hooks: readonly TreeHooks[];
  readonly committed: Commit;
  /** The clock deadlines are compared with (ms since the epoch). */
  now(): number;
  /** Make `next` the committed tree; `replaced` are the clean nodes it superseded. */
  publish(next: Commit, replaced: readonly number[], requests: number): void;
}

/** Run one batch against `target`; settles everything in it, never rejects. */
export async function runBatch(target: BatchTarget, batch: Batch): Promise<CommitInfo | undefined> {
  const items = batch.items;
  const prev = target.committed;
  const results = new Array<OpResult | undefined>(items.length);
  let pagesWritten = 0;
  let leavesRewritten: number[] = [];
  try {
    // 1. Apply.
    const slicer = new Slicer();
    const work = new WorkingTree(target.cache, prev.root, target.now());
    let ops = 0;
    for (let i = 0; i < items.length; i++) {
      if ((i & 63) === 63) await slicer.maybeYield();
      const item = items[i]!;
      const op = (item as Request).op;
      if (op === undefined) {
        work.apply(item as Op); // a plain operation
        ops++;
      } else if (Array.isArray(op)) {
        for (const o of op) work.apply(o);
        ops += op.length;
      } else {
        results[i] = work.apply(op);
        ops++;
      }
    }
    // 2. Hooks.
    for (const h of target.hooks) if (h.beforeCommit !== undefined) await h.beforeCommit(work, prev, ops);
    if (work.dirtied > 0) {
      // 3. Rebalance.
      const { root, pagesDelta } = await new Balancer(target.cache, target.nodeCapacity, work.nodesReplaced).runSliced(work.root, slicer);
      if (target.strict) checkWorkingTree(target.cache, root, target.nodeCapacity, prev.root);
      // 4. Write.
      const before = target.lbs.nextBlock;
      const next = await writeCommit(target.lbs, target.cache, prev, root, work.keysDelta, work.internalDelta, pagesDelta, slicer);
      pagesWritten = target.lbs.nextBlock - before;
      leavesRewritten = work.leavesCopied;
      // 5. Publish.
      target.publish(next, work.nodesReplaced, items.length);
    } else {
      target.publish(prev, [], items.length);
    }
  } catch (err) {
    batch.shared?.reject(err);
    for (const item of items) (item as Request).reject?.(err);
    return undefined;
  }
  batch.shared?.resolve();
  for (let i = 0; i < items.length; i++) {
    const req = items[i] as Request;
    if (req.op === undefined) continue;
    const r = results[i];
    if (Array.isArray(req.op) || req.op.kind === 'put') req.resolve();
    else if (r instanceof BirchError) req.reject(r);
    else req.resolve(r);
  }
  return { requests: items.length, pagesWritten, leavesRewritten };
}
