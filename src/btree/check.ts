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
 * @internal
 */
import { BirchError } from '../errors.js';
import type { BlockStore } from '../lbs/index.js';
import type { Commit } from './commit.js';
import { decodePage, type DecodedPage } from './serialize.js';

export interface CheckResult {
  ok: boolean;
  problems: string[];
  keys: number;
  pages: number;
  height: number;
}

interface Sub {
  keys: number;
  pages: number;
  oldest: number;
  level: number;
}

export function checkTree(lbs: BlockStore, commit: Commit, nodeCapacity: number): CheckResult {
  const problems: string[] = [];
  const rootBlock = commit.root.blockNo;
  if (rootBlock < 0) {
    // Never committed: the virtual empty root.
    return { ok: true, problems, keys: 0, pages: 1, height: 1 };
  }

  const read = (blockNo: number, where: string): DecodedPage | undefined => {
    try {
      return decodePage(lbs.read(blockNo), blockNo);
    } catch (err) {
      const e = err as BirchError;
      const place = e.file !== undefined ? ` (${e.file} at offset ${e.offset ?? '?'})` : '';
      problems.push(`${where}: block ${blockNo}: ${e.code ?? 'ERROR'} ${e.message}${place}`);
      return undefined;
    }
  };

  const walk = (blockNo: number, lo: Buffer | undefined, hi: Buffer | undefined, isRoot: boolean): Sub | undefined => {
    const page = read(blockNo, isRoot ? 'root' : 'page');
    if (page === undefined) return undefined;
    const { node, trailer } = page;
    const at = `block ${blockNo}`;
    if (isRoot !== (trailer !== undefined)) problems.push(`${at}: root flag ${trailer !== undefined} where root=${isRoot}`);
    if (node.size > nodeCapacity) problems.push(`${at}: page of ${node.size} bytes exceeds node capacity ${nodeCapacity}`);
    if (!isRoot && node.count === 0) problems.push(`${at}: empty non-root node`);
    const inBounds = (k: Buffer): boolean =>
      (lo === undefined || k.compare(lo) >= 0) && (hi === undefined || k.compare(hi) < 0);
    if (node.leaf) {
      let prev: Buffer | undefined;
      for (let i = 0; i < node.count; i++) {
        const k = node.keyAt(i);
        if (prev !== undefined && prev.compare(k) >= 0) problems.push(`${at}: keys out of order at ${i}`);
        if (!inBounds(k)) problems.push(`${at}: key ${i} outside its parent's separators`);
        prev = k;
      }
      return { keys: node.count, pages: 1, oldest: blockNo, level: 0 };
    }
    for (let i = 0; i < node.keys.length; i++) {
      const k = node.keys[i]!;
      if (i > 0 && node.keys[i - 1]!.compare(k) >= 0) problems.push(`${at}: separators out of order at ${i}`);
      if (!inBounds(k)) problems.push(`${at}: separator ${i} outside its parent's bounds`);
    }
    const sum: Sub = { keys: 0, pages: 1, oldest: Infinity, level: node.level };
    for (let i = 0; i < node.count; i++) {
      const child = node.blocks[i]!;
      if (child >= blockNo) problems.push(`${at}: child ${i} (block ${child}) not written before its parent`);
      if (child < lbs.firstBlock) {
        problems.push(`${at}: child ${i} points at freed block ${child}`);
        continue;
      }
      const sub = walk(child, i > 0 ? node.keys[i - 1] : lo, i < node.keys.length ? node.keys[i] : hi, false);
      if (sub === undefined) continue;
      if (sub.level !== node.level - 1) problems.push(`${at}: child ${i} at level ${sub.level}, expected ${node.level - 1}`);
      if (sub.oldest !== node.oldest[i]) {
        problems.push(`${at}: oldest-leaf pointer of child ${i} is ${node.oldest[i]}, subtree's oldest leaf is ${sub.oldest}`);
      }
      sum.keys += sub.keys;
      sum.pages += sub.pages;
      sum.oldest = Math.min(sum.oldest, sub.oldest);
    }
    return sum;
  };

  const total = walk(rootBlock, undefined, undefined, true);
  if (total !== undefined) {
    const height = total.level + 1;
    if (total.keys !== commit.keys) problems.push(`trailer says ${commit.keys} keys, tree holds ${total.keys}`);
    if (total.pages !== commit.pages) problems.push(`trailer says ${commit.pages} pages, tree has ${total.pages}`);
    if (height !== commit.height) problems.push(`trailer says height ${commit.height}, tree is ${height}`);
    if (total.oldest !== commit.oldest) problems.push(`trailer says oldest leaf ${commit.oldest}, tree's is ${total.oldest}`);
    return { ok: problems.length === 0, problems, keys: total.keys, pages: total.pages, height };
  }
  return { ok: false, problems, keys: 0, pages: 0, height: 0 };
}
