/**
 * Writing a batch: the commit, as a list of steps.
 *
 * 1. number the dirty nodes in post-order (children before parents, the root
 *    last) from the block store's next block number;
 * 2. serialize them bottom-up: a parent page records each child's new block
 *    number and the oldest leaf block below it; the root page carries the
 *    commit trailer;
 * 3. ONE block-store append of all the pages, which is ONE fdatasync;
 * 4. only then do the new pages become the committed tree: each written leaf
 *    becomes a clean leaf over its own page (the exact bytes on disk), each
 *    written parent a clean parent, and all are cached.
 *
 * A crash before step 3 completes leaves the previous root as the last
 * complete append, so recovery finds the previous commit.
 *
 * @internal
 */
import { invariant } from '../errors.js';
import type { BlockStore } from '../lbs/index.js';
import type { NodeCache } from './cache.js';
import { DIRTY, type Node } from './node.js';
import { encodePage, type CommitTrailer } from './serialize.js';
import { Slicer } from './slice.js';

/** The committed state: the root every reader starts from. */
export interface Commit {
  root: Node;
  /** A store that never committed: the root is a virtual empty leaf on no block. */
  empty: boolean;
  seq: number;
  /** Entries in the tree, in every keyspace (entry.ts). */
  keys: number;
  /** Of those, the store's own (expiry index, table catalog, dropped tables). */
  internal: number;
  pages: number;
  height: number;
  /** Oldest leaf block in the tree: every live block is at or above it. */
  oldest: number;
}

/** Block number of the virtual empty root of a store that has never committed. */
export const EMPTY_ROOT = -2;

export async function writeCommit(
  lbs: BlockStore,
  cache: NodeCache,
  prev: Commit,
  root: Node,
  keysDelta: number,
  internalDelta: number,
  pagesDelta: number,
  slicer: Slicer = new Slicer(),
): Promise<Commit> {
  // Steps 1 and 2: number and serialize, children first.
  const base = lbs.nextBlock;
  const pages: Buffer[] = [];
  const cleans: Node[] = [];
  const oldestOf = (n: Node): number => {
    if (n.leaf) return n.blockNo;
    let m = Infinity;
    for (const o of n.oldest) if (o < m) m = o;
    return m;
  };
  const encode = (n: Node, trailer: Omit<CommitTrailer, 'oldest'> | undefined): void => {
    n.blockNo = base + pages.length;
    const { payload, clean } = encodePage(n, trailer === undefined ? undefined : { ...trailer, oldest: oldestOf(n) });
    pages.push(payload);
    cleans.push(clean);
  };
  const visit = (n: Node, trailer: Omit<CommitTrailer, 'oldest'> | undefined): void => {
    if (!n.leaf) {
      const children = n.children!;
      for (let i = 0; i < children.length; i++) {
        const kid = children[i];
        if (kid === undefined) continue;
        visit(kid, undefined);
        n.blocks[i] = kid.blockNo;
        n.oldest[i] = oldestOf(kid);
      }
    }
    encode(n, trailer);
  };
  // The same walk, yielding the event loop between the subtrees of parents
  // two or more levels up when a slice is used up.
  const visitSliced = async (n: Node, trailer: Omit<CommitTrailer, 'oldest'> | undefined): Promise<void> => {
    if (n.leaf || n.level < 2) return visit(n, trailer);
    const children = n.children!;
    for (let i = 0; i < children.length; i++) {
      const kid = children[i];
      if (kid === undefined) continue;
      await visitSliced(kid, undefined);
      n.blocks[i] = kid.blockNo;
      n.oldest[i] = oldestOf(kid);
      await slicer.maybeYield();
    }
    encode(n, trailer);
  };
  invariant(root.blockNo === DIRTY, 'commit root must be dirty');
  const height = root.leaf ? 1 : root.level + 1;
  const next = {
    seq: prev.seq + 1,
    keys: prev.keys + keysDelta,
    internal: prev.internal + internalDelta,
    pages: prev.pages + pagesDelta,
    height,
  };
  await visitSliced(root, next);

  // Step 3: one append, one fsync.
  await lbs.append(pages, () => slicer.maybeYield());

  // Step 4: the new pages become the committed tree.
  for (const n of cleans) cache.insert(n);
  const clean = cleans[cleans.length - 1]!;
  return { root: clean, empty: false, ...next, oldest: oldestOf(clean) };
}
