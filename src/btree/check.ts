/**
 * The consistency checker: walks every page reachable from the committed
 * root, reading each one from disk (so its CRC is verified, not trusted from
 * the cache), and reports every problem found rather than stopping at the
 * first. Checked: each page decodes and fits its node capacity; keys are in
 * strictly ascending order; separators bound their subtrees; levels agree;
 * children were written before their parents; every oldest-leaf pointer is
 * the least leaf block below it; non-root nodes are not empty; and the
 * commit trailer's key count, page count, height and oldest leaf match.
 *
 * Problems are structured (what, which block, where on disk); the command
 * line formats them.
 *
 * @internal
 */
import { BirchError, messageWithoutPlace } from '../errors.js';
import type { BlockStore } from '../lbs/index.js';
import type { Commit } from './commit.js';
import { KS_EXPIRY } from './entry.js';
import { decodePage, type DecodedPage } from './serialize.js';

/** What kind of problem the checker found. */
export type CheckProblemKind =
  /** A page could not be read or decoded (I/O error, checksum, malformed page). */
  | 'unreadable'
  /** The root flag (commit trailer) is on a non-root page, or missing on the root. */
  | 'root-flag'
  /** A page larger than the node capacity. */
  | 'too-large'
  /** An empty page below the root. */
  | 'empty'
  /** Keys or separators not strictly ascending. */
  | 'order'
  /** A key or separator outside the bounds its parent's separators set. */
  | 'bounds'
  /** A child written after its parent, or at a level that does not fit. */
  | 'structure'
  /** A child pointer to a block that was freed. */
  | 'freed'
  /** An oldest-leaf pointer that is not the least leaf block below it. */
  | 'oldest-pointer'
  /** The commit trailer's counts disagree with the tree. */
  | 'trailer';

export interface CheckProblem {
  kind: CheckProblemKind;
  /** What is wrong, for people (without the location, which the fields below give). */
  message: string;
  /** The block concerned, where there is one. */
  block?: number;
  /** The segment file holding `block`, and the block's byte offset in it. */
  file?: string;
  offset?: number;
  /** For 'unreadable': the error's code (BIRCH_CORRUPT, BIRCH_IO). */
  code?: string;
}

export interface CheckResult {
  ok: boolean;
  problems: CheckProblem[];
  keys: number;
  pages: number;
  height: number;
}

interface Sub {
  keys: number;
  internal: number;
  pages: number;
  oldest: number;
  level: number;
}

export function checkTree(lbs: BlockStore, commit: Commit, nodeCapacity: number): CheckResult {
  const problems: CheckProblem[] = [];
  if (commit.empty) return { ok: true, problems, keys: 0, pages: 1, height: 1 };
  const report = (kind: CheckProblemKind, message: string, block?: number, extra: Partial<CheckProblem> = {}): void => {
    const where = block === undefined ? undefined : lbs.locate(block);
    problems.push({ kind, message, ...(block !== undefined && { block }), ...where, ...extra });
  };

  const read = (blockNo: number): DecodedPage | undefined => {
    try {
      return decodePage(lbs.read(blockNo), blockNo, (b) => lbs.locate(b));
    } catch (err) {
      const e = err instanceof BirchError ? err : undefined;
      report('unreadable', e === undefined ? String(err) : messageWithoutPlace(e), blockNo, {
        ...(e !== undefined && { code: e.code }),
        ...(e?.file !== undefined && { file: e.file }),
        ...(e?.offset !== undefined && { offset: e.offset }),
      });
      return undefined;
    }
  };

  const walk = (blockNo: number, lo: Buffer | undefined, hi: Buffer | undefined, isRoot: boolean): Sub | undefined => {
    const page = read(blockNo);
    if (page === undefined) return undefined;
    const { node, trailer } = page;
    if (isRoot !== (trailer !== undefined)) {
      report('root-flag', isRoot ? 'the root page has no commit trailer' : 'a page below the root has a commit trailer', blockNo);
    }
    if (node.size > nodeCapacity) report('too-large', `page of ${node.size} bytes exceeds node capacity ${nodeCapacity}`, blockNo);
    if (!isRoot && node.count === 0) report('empty', 'empty page below the root', blockNo);
    const inBounds = (k: Buffer): boolean =>
      (lo === undefined || k.compare(lo) >= 0) && (hi === undefined || k.compare(hi) < 0);
    if (node.leaf) {
      let prev: Buffer | undefined;
      let internal = 0;
      for (let i = 0; i < node.count; i++) {
        const k = node.keyAt(i);
        if (k[0]! >= KS_EXPIRY) internal++;
        if (prev !== undefined && prev.compare(k) >= 0) report('order', `keys out of order at ${i}`, blockNo);
        if (!inBounds(k)) report('bounds', `key ${i} outside its parent's separators`, blockNo);
        prev = k;
      }
      return { keys: node.count, internal, pages: 1, oldest: blockNo, level: 0 };
    }
    for (let i = 0; i < node.keys.length; i++) {
      const k = node.keys[i]!;
      if (i > 0 && node.keys[i - 1]!.compare(k) >= 0) report('order', `separators out of order at ${i}`, blockNo);
      if (!inBounds(k)) report('bounds', `separator ${i} outside its parent's bounds`, blockNo);
    }
    const sum: Sub = { keys: 0, internal: 0, pages: 1, oldest: Infinity, level: node.level };
    for (let i = 0; i < node.count; i++) {
      const child = node.blocks[i]!;
      if (child >= blockNo) report('structure', `child ${i} (block ${child}) not written before its parent`, blockNo);
      if (child < lbs.firstBlock) {
        report('freed', `child ${i} points at freed block ${child}`, blockNo);
        continue;
      }
      const sub = walk(child, i > 0 ? node.keys[i - 1] : lo, i < node.keys.length ? node.keys[i] : hi, false);
      if (sub === undefined) continue;
      if (sub.level !== node.level - 1) report('structure', `child ${i} at level ${sub.level}, expected ${node.level - 1}`, blockNo);
      if (sub.oldest !== node.oldest[i]) {
        report('oldest-pointer', `oldest-leaf pointer of child ${i} is ${node.oldest[i]}, subtree's oldest leaf is ${sub.oldest}`, blockNo);
      }
      sum.keys += sub.keys;
      sum.internal += sub.internal;
      sum.pages += sub.pages;
      sum.oldest = Math.min(sum.oldest, sub.oldest);
    }
    return sum;
  };

  const rootBlock = commit.root.blockNo;
  const total = walk(rootBlock, undefined, undefined, true);
  if (total === undefined) return { ok: false, problems, keys: 0, pages: 0, height: 0 };
  const height = total.level + 1;
  if (total.keys !== commit.keys) report('trailer', `trailer says ${commit.keys} keys, tree holds ${total.keys}`, rootBlock);
  if (total.internal !== commit.internal) report('trailer', `trailer says ${commit.internal} internal entries, tree holds ${total.internal}`, rootBlock);
  if (total.pages !== commit.pages) report('trailer', `trailer says ${commit.pages} pages, tree has ${total.pages}`, rootBlock);
  if (height !== commit.height) report('trailer', `trailer says height ${commit.height}, tree is ${height}`, rootBlock);
  if (total.oldest !== commit.oldest) report('trailer', `trailer says oldest leaf ${commit.oldest}, tree's is ${total.oldest}`, rootBlock);
  return { ok: problems.length === 0, problems, keys: total.keys, pages: total.pages, height };
}
