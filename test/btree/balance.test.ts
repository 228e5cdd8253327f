/**
 * Unit tests of the rebalance (src/btree/balance.ts), on nodes built in
 * memory: split (near-equal pieces that each fit, shortest separators,
 * leaves and parents, roots growing levels), merge (adjacent siblings that
 * fit in 2/3 of a node, empty nodes removed, the sweep absorbing several,
 * clean neighbours rechecked after a removal, parents merged), and the root
 * shrinking. Clean nodes are real pages (encodePage's clean nodes) in a
 * node cache with no disk behind it. Random contents come from the seeded PRNG.
 */
import { describe, expect, it } from 'vitest';
import { Balancer, recomputeParentSize, type BalanceResult } from '../../src/btree/balance.js';
import { NodeCache } from '../../src/btree/cache.js';
import { compareBytes } from '../../src/btree/compare.js';
import { CHILD_POINTER_SIZE, DIRTY, Leaf, PAGE_HEADER_SIZE, Parent, separatorSize, type Node } from '../../src/btree/node.js';
import { entrySizeAt, makeEntry, sortKey } from '../../src/btree/entry.js';
import { checkWorkingTree } from '../../src/btree/sanity.js';
import { encodePage } from '../../src/btree/serialize.js';
import type { BlockStore } from '../../src/lbs/index.js';
import { Rng } from '../helpers/rng.js';

const CAP = 2048 - 32 - 48; // the node capacity of 2 KiB blocks (block header, commit trailer)
const ROOM = CAP - PAGE_HEADER_SIZE;
const LIMIT = Math.floor((2 * CAP) / 3);

const cmp = (a: Uint8Array, b: Uint8Array): number => compareBytes(a, 0, a.length, b, 0, b.length);

interface Ctx {
  cache: NodeCache;
  replaced: number[];
  /** A clean copy of dirty node `n` (its children clean already) at a fresh block, in the cache. */
  clean(n: Node): Node;
  run(root: Node): BalanceResult;
}

function ctx(cap = CAP): Ctx {
  const noDisk = {
    read: (b: number): Buffer => {
      throw new Error(`block ${b} is not in the cache (no disk in this test)`);
    },
  } as unknown as BlockStore;
  const cache = new NodeCache(noDisk, 1 << 30);
  const replaced: number[] = [];
  let next = 1000;
  return {
    cache,
    replaced,
    clean: (n) => {
      n.blockNo = next++;
      const { clean } = encodePage(n, undefined); // a parent turns clean itself
      cache.insert(clean);
      return clean;
    },
    run: (root) => new Balancer(cache, cap, replaced).run(root),
  };
}

/** Fixed-size pairs: 6-byte keys 'k00000', 98-byte values: 108 bytes each with the entry's 4 bytes of lengths, keyspace and flags. */
const key = (i: number): Buffer => Buffer.from(`k${String(i).padStart(5, '0')}`);
const leafOf = (from: number, to: number): Leaf => {
  const bufs: Buffer[] = [];
  for (let i = from; i < to; i++) bufs.push(makeEntry(key(i), Buffer.alloc(98, i & 0xff)));
  return Leaf.dirty(bufs, bufs.map(() => 0));
};
const PAIR = 108;

/** A dirty parent over `kids` (dirty, or clean from the cache), separators their first keys. */
function parentOf(kids: Node[], c: Ctx): Parent {
  const level = kids[0]!.leaf ? 1 : (kids[0] as Parent).level + 1;
  const seps = kids.slice(1).map((k) => Buffer.from(firstKey(k, c)));
  const p = new Parent(
    DIRTY,
    level,
    seps,
    kids.map((k) => k.blockNo),
    kids.map((k) => (k.blockNo === DIRTY ? DIRTY : oldestOf(k))),
  );
  p.children = kids.map((k) => (k.blockNo === DIRTY ? k : undefined));
  return p;
}

function oldestOf(n: Node): number {
  return n.leaf ? n.blockNo : Math.min(...n.oldest);
}

function childOf(p: Parent, i: number, c: Ctx): Node {
  return p.children?.[i] ?? c.cache.get(p.blocks[i]!);
}

function firstKey(n: Node, c: Ctx): Buffer {
  while (!n.leaf) n = childOf(n, 0, c);
  return n.keyAt(0);
}

/** Every entry under n, in order, as serialized bytes (hex). */
function entries(n: Node, c: Ctx): string[] {
  if (n.leaf) {
    return Array.from({ length: n.count }, (_, i) => {
      const b = n.bufAt(i);
      const off = n.offs[i]!;
      return b.subarray(off, off + entrySizeAt(b, off)).toString('hex');
    });
  }
  return Array.from({ length: n.count }, (_, i) => entries(childOf(n, i, c), c)).flat();
}

function pages(n: Node, c: Ctx): number {
  if (n.leaf) return 1;
  let s = 1;
  for (let i = 0; i < n.count; i++) s += pages(childOf(n, i, c), c);
  return s;
}

function leafContent(l: Leaf): number {
  let s = 0;
  for (let i = 0; i < l.count; i++) s += l.entrySize(i);
  return s;
}

/** Random distinct keys of 0..255 bytes (a common prefix of `prefix` bytes), sorted, with random values. */
function randomPairs(rng: Rng, n: number, prefix = 0): Buffer[] {
  const pre = rng.bytes(prefix);
  const seen = new Set<string>();
  const keys: Buffer[] = [];
  while (keys.length < n) {
    const k = Buffer.concat([pre, rng.bytes(rng.range(0, 255 - prefix))]);
    const h = k.toString('hex');
    if (seen.has(h)) continue;
    seen.add(h);
    keys.push(k);
  }
  keys.sort(cmp);
  return keys.map((k) => makeEntry(k, rng.bytes(rng.range(0, 255))));
}

/** The shortest prefix of `right` that sorts after `left`. */
function expectShortestSeparator(sep: Buffer, left: Buffer, right: Buffer): void {
  expect(right.subarray(0, sep.length).equals(sep), 'a separator is a prefix of the right key').toBe(true);
  expect(cmp(sep, left), 'a separator sorts after the left key').toBeGreaterThan(0);
  expect(cmp(sep.subarray(0, sep.length - 1), left), 'no shorter prefix would do').toBeLessThanOrEqual(0);
}

/**
 * The documented cut (docs/DESIGN.md, "Relaxed balancing"): while the rest
 * needs k = ceil(rest / (nodeCapacity - 8)) > 1 pieces, the next piece takes
 * entries until the next one would pass rest / k bytes; the last piece takes
 * the rest. `rest` starts at the node's contents; piece j's `content` is what
 * its page holds past the header, `lead` what it gives up to the parent (a
 * parent piece's separator moving up; 0 for leaves), `next` the entry it
 * stopped before.
 */
function expectDocumentedCuts(total: number, pieces: { content: number; lead: number; next: number }[]): void {
  let rest = total;
  pieces.forEach(({ content, lead, next }, j) => {
    const k = Math.ceil(rest / ROOM);
    if (j === pieces.length - 1) {
      expect(k, 'the last piece is the rest, which fits').toBeLessThanOrEqual(1);
      expect(content + lead).toBe(rest);
    } else {
      expect(k, `piece ${j}: the rest needed more than one piece`).toBeGreaterThan(1);
      expect(content, `piece ${j} stays within rest / k`).toBeLessThanOrEqual(rest / k);
      expect(content + next, `piece ${j} stopped only because the next entry would pass rest / k`).toBeGreaterThan(rest / k);
    }
    rest -= lead + content;
  });
}

describe('split', () => {
  it('an oversized leaf: near-equal pieces that each fit, entries kept in order, shortest separators', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed);
      const c = ctx();
      const bufs = randomPairs(rng, rng.range(10, 120), rng.bool(0.3) ? rng.range(1, 200) : 0);
      // At most 6 pages' worth, so that one new root holds the pieces (growing is tested below).
      while (bufs.reduce((s, b) => s + b.length, 0) > 6 * ROOM) bufs.pop();
      const leaf = Leaf.dirty(bufs, bufs.map(() => 0));
      if (leaf.size <= CAP) continue;
      const want = entries(leaf, c);
      const { root, pagesDelta } = c.run(leaf);
      expect(root.leaf, `seed ${seed}`).toBe(false);
      const p = root as Parent;
      const pieces = p.children!.map((x) => x as Leaf);
      expect(p.level).toBe(1);
      expect(pagesDelta, 'the pieces and a new root replace one leaf').toBe(pieces.length);
      expect(pieces.length).toBeGreaterThanOrEqual(Math.ceil((leaf.size - PAGE_HEADER_SIZE) / ROOM));
      for (const piece of pieces) {
        expect(piece.blockNo).toBe(DIRTY);
        expect(piece.size).toBeLessThanOrEqual(CAP);
        expect(piece.size).toBe(PAGE_HEADER_SIZE + leafContent(piece));
      }
      // Near-equal in the documented sense. Not always the fewest pieces that
      // fit, as balance.ts's header says: with pairs of up to 512 bytes a
      // piece can stop well short of rest / k and leave the rest needing as
      // many pieces as before (seed 2 cuts 11,663 bytes into 8 pieces, from
      // 823 to 1,931 bytes, where 6 would do). That costs pages, not order.
      expectDocumentedCuts(
        leaf.size - PAGE_HEADER_SIZE,
        pieces.map((l, j) => ({ content: leafContent(l), lead: 0, next: j + 1 < pieces.length ? pieces[j + 1]!.entrySize(0) : 0 })),
      );
      expect(Math.max(...pieces.map(leafContent))).toBeLessThanOrEqual(ROOM);
      expect(entries(root, c)).toEqual(want);
      expect(p.keys.length).toBe(pieces.length - 1);
      for (let i = 0; i + 1 < pieces.length; i++) {
        const left = pieces[i]!.keyAt(pieces[i]!.count - 1);
        expectShortestSeparator(p.keys[i]!, left, pieces[i + 1]!.keyAt(0));
      }
      checkWorkingTree(c.cache, root, CAP, Leaf.empty());
    }
  });

  it('an oversized parent: pieces that each fit, the separators between them moved up', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new Rng(100 + seed);
      const c = ctx();
      // A dirty parent over clean children (never read: a split does not look at them).
      const n = rng.range(20, 150);
      const seps = randomPairs(rng, n - 1, rng.bool(0.5) ? rng.range(1, 200) : 0).map((e) => Buffer.from(e.subarray(1, 1 + e[0]!)));
      const blocks = Array.from({ length: n }, (_, i) => 5000 + i);
      const oldest = blocks.map((b) => b - rng.range(0, 100));
      const p = new Parent(DIRTY, 3, seps.slice(), blocks.slice(), oldest.slice());
      p.children = new Array<Node | undefined>(n);
      while (p.size > 6 * ROOM) {
        p.blocks.pop();
        p.oldest.pop();
        p.children.pop();
        p.keys.pop();
        blocks.pop();
        oldest.pop();
        seps.pop();
        recomputeParentSize(p);
      }
      if (p.size <= CAP) continue;
      const { root, pagesDelta } = c.run(p);
      const top = root as Parent;
      expect(top.level, `seed ${seed}`).toBe(4);
      const pieces = top.children!.map((x) => x as Parent);
      expect(pagesDelta).toBe(pieces.length);
      // Reassemble: the pieces' pointers in order, and their separators with the moved-up ones between.
      expect(pieces.flatMap((q) => q.blocks)).toEqual(blocks);
      expect(pieces.flatMap((q) => q.oldest)).toEqual(oldest);
      const joined: Buffer[] = [];
      pieces.forEach((q, i) => {
        if (i > 0) joined.push(top.keys[i - 1]!);
        joined.push(...q.keys);
      });
      expect(joined.map((k) => k.toString('hex'))).toEqual(seps.map((k) => k.toString('hex')));
      for (const q of pieces) {
        expect(q.level).toBe(3);
        expect(q.size).toBeLessThanOrEqual(CAP);
        expect(q.size).toBe(PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * q.count + q.keys.reduce((s, k) => s + separatorSize(k), 0));
        expect(q.keys.length).toBe(q.count - 1);
      }
      expectDocumentedCuts(
        p.size - PAGE_HEADER_SIZE,
        pieces.map((q, j) => ({
          content: q.size - PAGE_HEADER_SIZE,
          lead: j > 0 ? separatorSize(top.keys[j - 1]!) : 0,
          next: j + 1 < pieces.length ? CHILD_POINTER_SIZE + separatorSize(top.keys[j]!) : 0,
        })),
      );
    }
  });

  it('a root far over a page grows as many levels as it needs', () => {
    const rng = new Rng(7);
    const c = ctx();
    // Keys with a 200-byte common prefix: separators of 201+ bytes, 8 children to a parent.
    const bufs = randomPairs(rng, 400, 200);
    const leaf = Leaf.dirty(bufs, bufs.map(() => 0));
    const want = entries(leaf, c);
    const { root, pagesDelta } = c.run(leaf);
    expect(root.leaf).toBe(false);
    expect((root as Parent).level).toBeGreaterThanOrEqual(2);
    expect(entries(root, c)).toEqual(want);
    expect(pagesDelta).toBe(pages(root, c) - 1);
    checkWorkingTree(c.cache, root, CAP, Leaf.empty()); // sizes, order, bounds, levels, merge rule
    const walk = (n: Node): void => {
      expect(n.size).toBeLessThanOrEqual(CAP);
      if (!n.leaf) n.children!.forEach((k) => walk(k!));
    };
    walk(root);
  });

  it('a node that fits is left as it is', () => {
    const c = ctx();
    const leaf = leafOf(0, 18); // 8 + 18 * 108 = 1952 <= 1968
    expect(leaf.size).toBe(1952);
    const { root, pagesDelta } = c.run(leaf);
    expect(root).toBe(leaf);
    expect(pagesDelta).toBe(0);
    const big = leafOf(0, 19); // 2060: two pieces
    const r = c.run(big);
    expect((r.root as Parent).children!.map((l) => (l as Leaf).count)).toEqual([9, 10]);
  });
});

describe('merge', () => {
  // With 108-byte pairs: a big leaf of 16 (1736 bytes) merges with nothing;
  // smalls of 3 (332) merge up to four together (1304 <= 1312), not five.
  const BIG = 16;
  const SMALL = 3;

  /** A dirty root over leaves of the given pair counts (consecutive keys); clean where `clean[i]`. */
  function rootOver(c: Ctx, counts: number[], clean: boolean[] = []): Parent {
    let k = 0;
    const kids = counts.map((n, i) => {
      const l = leafOf(k, k + n);
      k += n;
      return clean[i] === true ? c.clean(l) : l;
    });
    return parentOf(kids, c);
  }

  const counts = (root: Node, c: Ctx): number[] => Array.from({ length: root.count }, (_, i) => childOf(root as Parent, i, c).count);

  it('merges adjacent siblings whose merge fits in 2/3 of a node, and no others', () => {
    expect(2 * (PAGE_HEADER_SIZE + SMALL * PAIR) - PAGE_HEADER_SIZE).toBeLessThanOrEqual(LIMIT);
    expect(PAGE_HEADER_SIZE + (BIG + SMALL) * PAIR).toBeGreaterThan(LIMIT);
    const c = ctx();
    const root = rootOver(c, [BIG, SMALL, SMALL, BIG]);
    const want = entries(root, c);
    const { root: out, pagesDelta } = c.run(root);
    expect(counts(out, c)).toEqual([BIG, 2 * SMALL, BIG]);
    expect(pagesDelta).toBe(-1);
    expect(entries(out, c)).toEqual(want);
    // The separator between the merged pair is gone; the others stay.
    expect((out as Parent).keys.map(String)).toEqual([sortKey(key(BIG)), sortKey(key(BIG + 2 * SMALL))].map(String));
    checkWorkingTree(c.cache, out, CAP, Leaf.empty());
  });

  it('the sweep stays on a merged node and absorbs the next ones while they fit', () => {
    const c = ctx();
    const root = rootOver(c, [SMALL, SMALL, SMALL, SMALL, SMALL, BIG]);
    const { root: out, pagesDelta } = c.run(root);
    expect(counts(out, c)).toEqual([4 * SMALL, SMALL, BIG]); // 1304 bytes, then 1628 would not fit
    expect(pagesDelta).toBe(-3);
    checkWorkingTree(c.cache, out, CAP, Leaf.empty());
  });

  it('removes empty nodes with the separator next to them', () => {
    for (const at of [0, 1, 2]) {
      const c = ctx();
      const sizes = [BIG, BIG, BIG];
      sizes[at] = 1;
      const root = rootOver(c, sizes);
      const seps = root.keys.map(String);
      const emptied = root.children![at] as Leaf;
      emptied.bufs!.length = 0;
      (emptied.offs as number[]).length = 0;
      emptied.size = PAGE_HEADER_SIZE;
      const { root: out, pagesDelta } = c.run(root);
      expect(counts(out, c), `empty child ${at}`).toEqual([BIG, BIG]);
      expect(pagesDelta).toBe(-1);
      // Its left neighbour (or, for the first, its right one) takes its range.
      expect((out as Parent).keys.map(String)).toEqual([seps[at === 0 ? 1 : at === 1 ? 1 : 0]]);
      checkWorkingTree(c.cache, out, CAP, Leaf.empty());
    }
  });

  it('rechecks clean neighbours that a removal made adjacent, and only those', () => {
    const c = ctx();
    // x and y clean and small, m between them dirty and emptied, z clean and big.
    const root = rootOver(c, [SMALL, 1, SMALL, BIG], [true, false, true, true]);
    const [xb, , yb] = root.blocks;
    const m = root.children![1] as Leaf;
    m.bufs!.length = 0;
    (m.offs as number[]).length = 0;
    m.size = PAGE_HEADER_SIZE;
    const { root: out, pagesDelta } = c.run(root);
    expect(counts(out, c)).toEqual([2 * SMALL, BIG]);
    expect(pagesDelta).toBe(-2);
    expect((out as Parent).blocks[0]).toBe(DIRTY); // x copied, y merged into it
    expect(c.replaced).toEqual(expect.arrayContaining([xb, yb]));
    // Without the removal, two clean small neighbours are left alone (not this batch's to merge).
    const c2 = ctx();
    const root2 = rootOver(c2, [SMALL, SMALL, BIG], [true, true, false]);
    const { root: out2, pagesDelta: d2 } = c2.run(root2);
    expect(counts(out2, c2)).toEqual([SMALL, SMALL, BIG]);
    expect(d2).toBe(0);
    expect((out2 as Parent).children!.slice(0, 2)).toEqual([undefined, undefined]);
    expect(c2.replaced).toEqual([]);
  });

  it('a clean sibling is copied to merge with a dirty one', () => {
    const c = ctx();
    const root = rootOver(c, [BIG, SMALL, SMALL], [true, false, true]);
    const cleanBlock = root.blocks[2]!;
    const { root: out } = c.run(root);
    expect(counts(out, c)).toEqual([BIG, 2 * SMALL]);
    expect((out as Parent).blocks).toEqual([root.blocks[0], DIRTY]);
    expect(c.replaced).toEqual([cleanBlock]);
  });

  it('merges small parents, pulling the separator between them down', () => {
    const c = ctx();
    // Root over A [big, big], B [big, big], C [big, big]: A and B dirty and small, C clean.
    let k = 0;
    const leaves = (dirty: boolean): Node[] =>
      [BIG, BIG].map((n) => {
        const l = leafOf(k, k + n);
        k += n;
        return dirty ? l : c.clean(l);
      });
    const A = parentOf(leaves(true), c);
    const B = parentOf(leaves(true), c);
    const C = c.clean(parentOf(leaves(false), c));
    const root = parentOf([A, B, C], c);
    const between = root.keys[0]!;
    const want = entries(root, c);
    const { root: out, pagesDelta } = c.run(root);
    // A, B and C are 48 bytes each: all three merge, and the root of one child shrinks to it.
    expect(out.leaf).toBe(false);
    expect((out as Parent).level).toBe(1);
    expect(out.count).toBe(6);
    expect((out as Parent).keys[1]!.equals(between)).toBe(true);
    expect(entries(out, c)).toEqual(want);
    expect(pagesDelta).toBe(-3); // B and C merged away, the root gone
    expect(c.replaced).toContain(C.blockNo);
  });
});

describe('root shrink', () => {
  it('a root parent with one child is replaced by that child, copied if clean, as often as needed', () => {
    const c = ctx();
    const leaves = [c.clean(leafOf(0, 16)), c.clean(leafOf(16, 32))];
    const inner = c.clean(parentOf(leaves, c));
    const mid = parentOf([inner], c); // dirty, one clean child
    const root = parentOf([mid], c); // dirty, one dirty child
    const { root: out, pagesDelta } = c.run(root);
    expect(out.blockNo).toBe(DIRTY);
    expect(out.leaf).toBe(false);
    expect((out as Parent).level).toBe(1);
    expect((out as Parent).blocks).toEqual(leaves.map((l) => l.blockNo));
    expect((out as Parent).children).toEqual([undefined, undefined]);
    expect(pagesDelta).toBe(-2);
    expect(c.replaced).toEqual([inner.blockNo]);
  });

  it('a tree whose every key went becomes an empty root leaf', () => {
    const c = ctx();
    const l = leafOf(0, 1);
    const root = parentOf([l, leafOf(1, 2)], c);
    for (const kid of root.children!) {
      const leaf = kid as Leaf;
      leaf.bufs!.length = 0;
      (leaf.offs as number[]).length = 0;
      leaf.size = PAGE_HEADER_SIZE;
    }
    const { root: out, pagesDelta } = c.run(root);
    expect(out.leaf).toBe(true);
    expect(out.count).toBe(0);
    expect(out.size).toBe(PAGE_HEADER_SIZE);
    expect(pagesDelta).toBe(-2); // three pages before, one after
  });

  it('a root parent left with one child after its others emptied shrinks to that child', () => {
    const c = ctx();
    const keep = c.clean(leafOf(0, BIG_PAIRS));
    const gone = leafOf(BIG_PAIRS, BIG_PAIRS + 1);
    const root = parentOf([keep, gone], c);
    gone.bufs!.length = 0;
    (gone.offs as number[]).length = 0;
    gone.size = PAGE_HEADER_SIZE;
    const { root: out, pagesDelta } = c.run(root);
    expect(out.leaf).toBe(true);
    expect(out.blockNo).toBe(DIRTY); // copied: the root page carries the trailer
    expect(entries(out, c)).toEqual(entries(keep, c));
    expect(pagesDelta).toBe(-2);
    expect(c.replaced).toEqual([keep.blockNo]);
  });
});

const BIG_PAIRS = 16;
