/**
 * Unit tests of the page format (src/btree/serialize.ts), until now covered
 * only through whole stores: encodePage/decodePage round trips of leaves and
 * parents with random keys and values of 0..255 bytes, with and without the
 * commit trailer, and the clean node encodePage makes over its page; the
 * size formulas and encodePage's assertion that it wrote exactly the
 * recorded size; and decodePage refusing every malformed page with
 * BIRCH_CORRUPT (never a wrong node, never another exception).
 */
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/btree/compare.js';
import { CHILD_POINTER_SIZE, DIRTY, Leaf, PAGE_HEADER_SIZE, Parent, type Node } from '../../src/btree/node.js';
import { KS_LAST, KS_STORE, deadlineAt, entrySize, entrySizeAt, makeEntry } from '../../src/btree/entry.js';
import {
  FLAG_ROOT,
  MAX_PAIR_SIZE,
  TRAILER_MAGIC,
  TRAILER_SIZE,
  TYPE_LEAF,
  TYPE_PARENT,
  decodePage,
  encodePage,
  type CommitTrailer,
} from '../../src/btree/serialize.js';
import { BirchError } from '../../src/errors.js';
import { Rng } from '../helpers/rng.js';

const cmp = (a: Uint8Array, b: Uint8Array): number => compareBytes(a, 0, a.length, b, 0, b.length);

/** Distinct random sort keys (a keyspace byte, then a key of 0..255 bytes), sorted. */
function randomKeys(rng: Rng, n: number): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  while (out.length < n) {
    const key = rng.bytes(rng.bool(0.1) ? rng.pick([0, 1, 255]) : rng.range(0, 255));
    const k = Buffer.concat([Buffer.of(rng.bool(0.7) ? KS_STORE : rng.range(0, KS_LAST)), key]);
    const h = k.toString('hex');
    if (seen.has(h)) continue;
    seen.add(h);
    out.push(k);
  }
  return out.sort(cmp);
}

/** A deadline as birch writes them: ms since the epoch, below 2^53 (0: none). */
const deadline = (rng: Rng): number => (rng.bool(0.7) ? 0 : rng.pick([1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, 1_800_000_000_000 + rng.int(2 ** 30)]));

/** The entry of sort key `sk` (keyspace byte, key). */
const entryOf = (sk: Buffer, v: Buffer, d: number): Buffer => makeEntry(sk.subarray(1), v, sk[0], d);

function randomLeaf(rng: Rng, n: number): { leaf: Leaf; pairs: [Buffer, Buffer, number][] } {
  const pairs = randomKeys(rng, n).map((k): [Buffer, Buffer, number] => [k, rng.bytes(rng.bool(0.1) ? rng.pick([0, 255]) : rng.range(0, 255)), deadline(rng)]);
  // Some entries packed back to back in one shared buffer (as a copied clean leaf's are), some on their own.
  const shared = Buffer.concat(pairs.map(([k, v, d]) => entryOf(k, v, d)));
  const bufs: Buffer[] = [];
  const offs: number[] = [];
  let off = 0;
  for (const [k, v, d] of pairs) {
    if (rng.bool()) {
      bufs.push(shared);
      offs.push(off);
    } else {
      bufs.push(entryOf(k, v, d));
      offs.push(0);
    }
    off += entrySize(k.length - 1, v.length, d);
  }
  return { leaf: Leaf.dirty(bufs, offs), pairs };
}

/** A u64 as birch stores them: up to 2^53 - 1. */
const u64 = (rng: Rng): number => rng.pick([0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, rng.int(2 ** 31) * 2 ** 21 + rng.int(2 ** 21)]);

function randomParent(rng: Rng, n: number): Parent {
  const blocks = Array.from({ length: n }, () => u64(rng));
  const oldest = Array.from({ length: n }, () => u64(rng));
  return new Parent(DIRTY, rng.range(1, 255), randomKeys(rng, n - 1), blocks, oldest);
}

function randomTrailer(rng: Rng): CommitTrailer {
  return { seq: u64(rng), keys: u64(rng), internal: u64(rng), pages: u64(rng), oldest: u64(rng), height: rng.int(2 ** 32) };
}

function expectCorrupt(page: Buffer, what: string): BirchError {
  let err: unknown;
  let node: Node | undefined;
  try {
    node = decodePage(page, 42).node;
  } catch (e) {
    err = e;
  }
  expect(node, `${what}: decoded as a node`).toBeUndefined();
  expect(err, `${what}: ${String(err)}`).toBeInstanceOf(BirchError);
  expect((err as BirchError).code, what).toBe('BIRCH_CORRUPT');
  return err as BirchError;
}

describe('round trips', () => {
  it('leaves of random pairs (keyspaces, keys and values of 0 to 255 bytes, deadlines), with and without a trailer', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = new Rng(seed);
      const { leaf, pairs } = randomLeaf(rng, rng.bool(0.05) ? 0 : rng.range(1, 40));
      const trailer = rng.bool() ? randomTrailer(rng) : undefined;
      leaf.blockNo = 3; // numbered, as a commit does before encoding
      const { payload: page, clean } = encodePage(leaf, trailer);
      const expected = PAGE_HEADER_SIZE + pairs.reduce((s, [k, v, d]) => s + 4 + (k.length - 1) + v.length + (d > 0 ? 8 : 0), 0);
      expect(leaf.size, `seed ${seed}`).toBe(expected);
      expect(page.length).toBe(expected + (trailer === undefined ? 0 : TRAILER_SIZE));
      expect([page[0], page[1], page.readUInt16LE(2), page[4], page[5], page[6], page[7]]).toEqual([
        TYPE_LEAF,
        trailer === undefined ? 0 : FLAG_ROOT,
        pairs.length,
        0,
        0,
        0,
        0,
      ]);
      const d = decodePage(page, 7 + seed);
      expect(d.trailer).toEqual(trailer);
      const n = d.node as Leaf;
      expect(n.leaf).toBe(true);
      expect(n.blockNo).toBe(7 + seed);
      expect(n.size).toBe(expected);
      expect(n.count).toBe(pairs.length);
      // The clean leaf encodePage made is the decoded one: same block, size, offsets, pairs.
      const c = clean as Leaf;
      expect([c.leaf, c.blockNo, c.size, c.count]).toEqual([true, 3, expected, pairs.length]);
      expect([...n.offs]).toEqual([...c.offs]);
      for (let i = 0; i < pairs.length; i++) {
        for (const x of [n, c]) {
          expect(x.keyAt(i).equals(pairs[i]![0]), `seed ${seed} key ${i}`).toBe(true);
          expect(x.valueAt(i).equals(pairs[i]![1]), `seed ${seed} value ${i}`).toBe(true);
          expect(deadlineAt(x.bufAt(i), x.offs[i]!), `seed ${seed} deadline ${i}`).toBe(pairs[i]![2]);
        }
      }
      // The decoded leaf encodes back to the same page.
      expect(encodePage(n, trailer).payload.equals(page)).toBe(true);
    }
  });

  it('parents of random separators (1 to 256 bytes) and 53-bit pointers, with and without a trailer', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = new Rng(1000 + seed);
      const p = randomParent(rng, rng.bool(0.05) ? 1 : rng.range(2, 60));
      const seps = p.keys.map((k) => k.toString('hex'));
      const [blocks, oldest] = [p.blocks.slice(), p.oldest.slice()];
      const trailer = rng.bool() ? randomTrailer(rng) : undefined;
      const expected = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * p.count + p.keys.reduce((s, k) => s + 1 + k.length, 0);
      expect(p.size, `seed ${seed}`).toBe(expected);
      p.blockNo = 4;
      const { payload: page, clean } = encodePage(p, trailer);
      // A dirty parent becomes the clean one itself, over its page.
      expect(clean).toBe(p);
      expect(p.children).toBeUndefined();
      expect(p.keys.map((k) => k.toString('hex'))).toEqual(seps);
      expect(page.length).toBe(expected + (trailer === undefined ? 0 : TRAILER_SIZE));
      expect([page[0], page[1], page.readUInt16LE(2), page[4]]).toEqual([TYPE_PARENT, trailer === undefined ? 0 : FLAG_ROOT, p.count, p.level]);
      const d = decodePage(page, 99);
      expect(d.trailer).toEqual(trailer);
      const n = d.node as Parent;
      expect(n.leaf).toBe(false);
      expect(n.level).toBe(p.level);
      expect(n.size).toBe(expected);
      expect(n.blocks).toEqual(blocks);
      expect(n.oldest).toEqual(oldest);
      expect(n.keys.map((k) => k.toString('hex'))).toEqual(seps);
      expect([...n.sepOffs!]).toEqual([...p.sepOffs!]);
      expect(n.children).toBeUndefined();
      expect(encodePage(n, trailer).payload.equals(page)).toBe(true);
    }
  });
});

describe('sizes', () => {
  it('encodePage writes exactly the recorded size, and refuses a node whose size is wrong', () => {
    const rng = new Rng(5);
    for (const node of [randomLeaf(rng, 10).leaf, randomParent(rng, 10)] as Node[]) {
      for (const delta of [-1, 1, 16]) {
        node.size += delta;
        let err: unknown;
        let page: Buffer | undefined;
        try {
          page = encodePage(node, undefined).payload;
        } catch (e) {
          err = e;
        }
        expect(page, `size off by ${delta}`).toBeUndefined();
        if (delta > 0) {
          expect((err as BirchError).code).toBe('BIRCH_INTERNAL');
          expect((err as BirchError).message).toMatch(/serializer wrote \d+ bytes, size\(\) said \d+/);
        } else {
          // Too small: the page buffer is allocated at the recorded size; a
          // write past it may throw Node's RangeError before the assertion
          // can (Buffer.copy truncates quietly, Buffer.set and writeUInt32LE
          // throw), so the error is not always BIRCH_INTERNAL.
          const internal = err instanceof BirchError && err.code === 'BIRCH_INTERNAL';
          expect(internal || err instanceof RangeError, String(err)).toBe(true);
        }
        node.size -= delta;
      }
      expect(encodePage(node, undefined).payload.length).toBe(node.size);
    }
  });

  it('the size formulas at their bounds', () => {
    expect(Leaf.empty().size).toBe(8);
    const big = Leaf.dirty([makeEntry(Buffer.alloc(255), Buffer.alloc(255))], [0]);
    expect(big.size).toBe(8 + 514);
    const dated = Leaf.dirty([makeEntry(Buffer.alloc(255), Buffer.alloc(255), KS_LAST, Number.MAX_SAFE_INTEGER)], [0]);
    expect(dated.size).toBe(8 + 522);
    expect(MAX_PAIR_SIZE).toBe(522);
    expect(Leaf.dirty([makeEntry(Buffer.alloc(0), Buffer.alloc(0))], [0]).size).toBe(8 + 4);
    const one = new Parent(DIRTY, 1, [], [3], [3]);
    expect(one.size).toBe(8 + 16);
    expect(new Parent(DIRTY, 1, [Buffer.alloc(256)], [3, 4], [3, 4]).size).toBe(8 + 32 + 257);
    expect(new Parent(DIRTY, 1, [Buffer.alloc(1)], [3, 4], [3, 4]).size).toBe(8 + 32 + 2);
    expect(encodePage(Leaf.empty(), { seq: 1, keys: 0, internal: 0, pages: 1, oldest: 0, height: 1 }).payload.length).toBe(8 + 48);
  });
});

describe('decodePage refuses malformed pages with BIRCH_CORRUPT', () => {
  const rng = new Rng(77);
  const leafPage = encodePage(randomLeaf(rng, 12).leaf, undefined).payload;
  const rootLeafPage = encodePage(randomLeaf(rng, 12).leaf, randomTrailer(rng)).payload;
  const parentPage = encodePage(randomParent(rng, 12), undefined).payload;
  const rootParentPage = encodePage(randomParent(rng, 12), randomTrailer(rng)).payload;
  const valid: [string, Buffer][] = [
    ['leaf', leafPage],
    ['root leaf', rootLeafPage],
    ['parent', parentPage],
    ['root parent', rootParentPage],
    ['empty leaf', encodePage(Leaf.empty(), undefined).payload],
    ['empty root leaf', encodePage(Leaf.empty(), randomTrailer(rng)).payload],
  ];

  it('the valid pages decode', () => {
    for (const [what, page] of valid) expect(() => decodePage(page, 1), what).not.toThrow();
  });

  it('every truncation', () => {
    for (const [what, page] of valid) {
      for (let len = 0; len < page.length; len++) expectCorrupt(page.subarray(0, len), `${what} cut to ${len} bytes`);
    }
  });

  it('trailing bytes', () => {
    for (const [what, page] of valid) {
      expectCorrupt(Buffer.concat([page, Buffer.alloc(1)]), `${what} plus a byte`);
    }
  });

  it('lengths that run past the end', () => {
    // The last pair's key length, then its value length, made to run past the end.
    const lastPair = (page: Buffer, end: number): number => {
      const n = page.readUInt16LE(2);
      let p = PAGE_HEADER_SIZE;
      for (let i = 0; i < n - 1; i++) p += entrySizeAt(page, p);
      expect(p + entrySizeAt(page, p)).toBe(end);
      return p;
    };
    for (const [what, page, end] of [
      ['leaf', leafPage, leafPage.length],
      ['root leaf', rootLeafPage, rootLeafPage.length - TRAILER_SIZE],
    ] as const) {
      const p = lastPair(page, end);
      const k = page[p]!;
      const longKey = Buffer.from(page);
      longKey[p] = 255;
      if (k !== 255) expectCorrupt(longKey, `${what}: key length past the end`);
      const longValue = Buffer.from(page);
      longValue[p + 3 + k] = Math.min(255, longValue[p + 3 + k]! + 1 + (end - p));
      if (page[p + 3 + k]! < 255) expectCorrupt(longValue, `${what}: value length past the end`);
      // A deadline flag on an entry without the eight bytes.
      if ((page[p + 2 + k]! & 1) === 0) {
        const flagged = Buffer.from(page);
        flagged[p + 2 + k] = 1;
        expectCorrupt(flagged, `${what}: deadline flag past the end`);
      }
    }
    // A parent whose last separator's length runs past the end, and one whose count claims more pointers than fit.
    for (const [what, page, end] of [
      ['parent', parentPage, parentPage.length],
      ['root parent', rootParentPage, rootParentPage.length - TRAILER_SIZE],
    ] as const) {
      const n = page.readUInt16LE(2);
      let p = PAGE_HEADER_SIZE + CHILD_POINTER_SIZE * n;
      for (let i = 0; i < n - 2; i++) p += 2 + page[p]!;
      expect(p + 2 + page[p]!).toBe(end);
      const longSep = Buffer.from(page);
      longSep[p] = page[p]! + 1;
      expectCorrupt(longSep, `${what}: separator past the end`);
      const manyKids = Buffer.from(page);
      manyKids.writeUInt16LE(0xffff, 2);
      expectCorrupt(manyKids, `${what}: child pointers past the end`);
    }
    const manyPairs = Buffer.from(leafPage);
    manyPairs.writeUInt16LE(leafPage.readUInt16LE(2) + 1, 2);
    expectCorrupt(manyPairs, 'leaf: one pair more than the page holds');
  });

  it('an unknown keyspace or a reserved entry flag', () => {
    for (const [what, page, end] of [
      ['leaf', leafPage, leafPage.length],
      ['root leaf', rootLeafPage, rootLeafPage.length - TRAILER_SIZE],
    ] as const) {
      let seen = 0;
      for (let p = PAGE_HEADER_SIZE; p < end; p += entrySizeAt(page, p), seen++) {
        const k = page[p]!;
        for (const ks of [KS_LAST + 1, 0x80, 0xff]) {
          const bad = Buffer.from(page);
          bad[p + 1] = ks;
          expect(expectCorrupt(bad, `${what} entry ${seen} in keyspace ${ks}`).message).toMatch(/unknown keyspace/);
        }
        for (let bit = 1; bit < 8; bit++) {
          const bad = Buffer.from(page);
          bad[p + 2 + k]! |= 1 << bit;
          expect(expectCorrupt(bad, `${what} entry ${seen} flag bit ${bit}`).message).toMatch(/reserved entry flags/);
        }
      }
      expect(seen).toBe(page.readUInt16LE(2));
    }
  });

  it('a bad page type', () => {
    for (const [what, page] of valid) {
      for (let t = 0; t < 256; t++) {
        if (t === TYPE_LEAF || t === TYPE_PARENT) continue;
        const bad = Buffer.from(page);
        bad[0] = t;
        expect(expectCorrupt(bad, `${what} with type ${t}`).message).toMatch(/unknown page type/);
      }
    }
  });

  it('reserved bits and bytes, and levels that do not fit the type', () => {
    for (const [what, page] of valid) {
      for (let bit = 1; bit < 8; bit++) {
        const bad = Buffer.from(page);
        bad[1] = bad[1]! | (1 << bit);
        expectCorrupt(bad, `${what} with flag bit ${bit}`);
      }
      for (const at of [5, 6, 7]) {
        for (const v of [1, 0x80, 0xff]) {
          const bad = Buffer.from(page);
          bad[at] = v;
          expectCorrupt(bad, `${what} with byte ${at} = ${v}`);
        }
      }
    }
    const leafLevel = Buffer.from(leafPage);
    leafLevel[4] = 1;
    expectCorrupt(leafLevel, 'leaf with level 1');
    const parentLevel = Buffer.from(parentPage);
    parentLevel[4] = 0;
    expectCorrupt(parentLevel, 'parent with level 0');
    const noKids = Buffer.alloc(PAGE_HEADER_SIZE);
    noKids[0] = TYPE_PARENT;
    noKids[4] = 1;
    expectCorrupt(noKids, 'parent with no children');
    // The root flag on a page with no room for a trailer; and taken off a root page.
    const flagged = Buffer.from(encodePage(Leaf.empty(), undefined).payload);
    flagged[1] = FLAG_ROOT;
    expectCorrupt(flagged, 'root flag without a trailer');
    for (const [what, page] of valid.filter(([w]) => w.startsWith('root'))) {
      const unflagged = Buffer.from(page);
      unflagged[1] = 0;
      expectCorrupt(unflagged, `${what} without its root flag`);
    }
  });

  it('a bad trailer magic', () => {
    for (const [what, page] of valid.filter(([w]) => w.includes('root'))) {
      const at = page.length - 4;
      expect(page.readUInt32LE(at)).toBe(TRAILER_MAGIC);
      for (let i = 0; i < 4; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = Buffer.from(page);
          bad[at + i]! ^= 1 << bit;
          expect(expectCorrupt(bad, `${what}: magic byte ${i} bit ${bit}`).message).toMatch(/commit trailer magic/);
        }
      }
    }
  });

  it('says where the page was when told', () => {
    const bad = Buffer.from(leafPage);
    bad[0] = 9;
    let err: unknown;
    try {
      decodePage(bad, 12, (b) => (b === 12 ? { file: '/x/000000000000000c.seg', offset: 4096 } : undefined));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BIRCH_CORRUPT', file: '/x/000000000000000c.seg', offset: 4096 });
    expect((err as Error).message).toMatch(/block 12 is malformed: unknown page type 9/);
  });

  /** Whether a u64 field of the page (a parent's pointers, the trailer) is 2^53 or more. */
  function past53Bits(page: Buffer): boolean {
    const high = (at: number): boolean => at + 8 <= page.length && page.readUInt32LE(at + 4) >= 2 ** 21;
    const end = page.length - (page[1]! & FLAG_ROOT ? TRAILER_SIZE : 0);
    if ((page[1]! & FLAG_ROOT) !== 0 && [0, 8, 16, 24, 32].some((d) => high(end + d))) return true;
    if (page[0] === TYPE_PARENT) {
      for (let i = 0; i < page.readUInt16LE(2) * 2; i++) if (high(PAGE_HEADER_SIZE + 8 * i)) return true;
    }
    return false;
  }

  it('random damage: BIRCH_CORRUPT or a node that encodes back to the same bytes, never anything else', () => {
    const r = new Rng(4242);
    let refused = 0;
    let rounded = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const [, page] = r.pick(valid);
      const bad = Buffer.from(page);
      const hits = r.range(1, 4);
      for (let h = 0; h < hits; h++) {
        const at = r.int(bad.length);
        if (r.bool()) bad[at]! ^= 1 << r.int(8);
        else bad[at] = r.int(256);
      }
      const cut = r.bool(0.2) ? bad.subarray(0, r.int(bad.length + 1)) : bad;
      let d: ReturnType<typeof decodePage> | undefined;
      try {
        d = decodePage(cut, 5);
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(BirchError);
        expect((e as BirchError).code).toBe('BIRCH_CORRUPT');
        refused++;
        continue;
      }
      // Accepted: the damage hit bytes the format does not constrain (key or
      // value bytes, pointers); the node must be exactly what the bytes say.
      // Except a u64 of 2^53 or more (birch never writes one): decodePage
      // takes it as the nearest double rather than refusing the page.
      if (past53Bits(cut)) {
        rounded++;
        continue;
      }
      expect(encodePage(d.node, d.trailer).payload.equals(cut), `trial ${trial}`).toBe(true);
    }
    expect(refused).toBeGreaterThan(1000);
    expect(rounded).toBeLessThan(1000);
  });
});
