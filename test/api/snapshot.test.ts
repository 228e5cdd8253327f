/**
 * Snapshots and long-lived iterators: a view holds one commit however much
 * is written (and cleaned, and freed) after it; release() is idempotent and
 * ends the view; iterators that finish, hit their limit or are broken out of
 * give their pin back so the space can be reclaimed.
 */
import { describe, expect, it } from 'vitest';
import { type RangeOptions, type Snapshot, type Store } from '../../src/index.js';
import { expectCheck, expectThrowCode, hex, keysHex, openStore, pairsHex, refRange, rng, tmp } from './util.js';

type Model = Map<string, string>;

const SMALL = { segmentSize: 64 * 1024, cacheSize: 64 * 1024 };

const key = (i: number): Buffer => Buffer.from(`key:${String(i).padStart(6, '0')}`);
const val = (i: number, gen: number): Buffer => Buffer.from(`v${gen}:${i}:`.padEnd(100, String.fromCharCode(97 + (gen % 26))));

async function load(db: Store, model: Model, from: number, to: number, gen: number): Promise<void> {
  const ps: Promise<void>[] = [];
  for (let i = from; i < to; i++) {
    ps.push(db.put(key(i), val(i, gen)));
    model.set(hex(key(i)), hex(val(i, gen)));
  }
  await Promise.all(ps);
}

/** Many puts, overwrites and deletes (issued together per round), mirrored in `model`. */
async function churn(db: Store, model: Model, seed: number, rounds: number, gen0: number): Promise<void> {
  const rand = rng(seed);
  for (let r = 0; r < rounds; r++) {
    const gen = gen0 + r;
    const ps: Promise<unknown>[] = [];
    for (let j = 0; j < 1200; j++) {
      const i = Math.floor(rand() * 8000);
      const k = key(i);
      if (rand() < 0.35) {
        ps.push(db.delete(k));
        model.delete(hex(k));
      } else {
        ps.push(db.put(k, val(i, gen)));
        model.set(hex(k), hex(val(i, gen)));
      }
    }
    await Promise.all(ps);
  }
}

interface View {
  get(k: Uint8Array): Buffer | undefined;
  range(o?: RangeOptions): IterableIterator<[Buffer, Buffer]>;
  keys(o?: RangeOptions): IterableIterator<Buffer>;
}

/** `view` holds exactly `model`: every key, absent keys, whole ranges both ways, some subranges. */
function expectView(view: View, model: Model): void {
  for (const [k, v] of model) expect(hex(view.get(Buffer.from(k, 'hex'))!)).toBe(v);
  for (let i = 0; i < 8000; i += 97) {
    if (!model.has(hex(key(i)))) expect(view.get(key(i))).toBeUndefined();
  }
  expect(pairsHex(view.range())).toEqual(refRange(model));
  expect(pairsHex(view.range({ reverse: true }))).toEqual(refRange(model, { reverse: true }));
  for (const opts of [
    { gte: key(1000), lt: key(1500) },
    { gt: key(2000), lte: key(2600), reverse: true },
    { prefix: 'key:0031' },
    { prefix: 'key:0042', reverse: true, limit: 4 },
    { lt: key(300), reverse: true, limit: 50 },
  ] as RangeOptions[]) {
    expect(pairsHex(view.range(opts)), JSON.stringify(opts)).toEqual(refRange(model, opts));
    expect(keysHex(view.keys(opts))).toEqual(refRange(model, opts).map(([k]) => k));
  }
}

describe('snapshots', () => {
  it('a snapshot held across thousands of writes, splits, merges, segment rolls and reclaim reads as at snapshot time', async () => {
    const db = openStore(tmp(), SMALL);
    const m0: Model = new Map();
    await load(db, m0, 0, 4000, 0);
    const s0 = db.snapshot();
    const m0copy = new Map(m0);
    const before = db.stats();

    const m1 = new Map(m0);
    await churn(db, m1, 1, 5, 1);
    const s1 = db.snapshot();
    const m1copy = new Map(m1);
    const m2 = new Map(m1);
    await churn(db, m2, 2, 5, 6);
    // Delete a whole stretch so that leaves empty out and merge.
    const ps: Promise<boolean>[] = [];
    for (let i = 1000; i < 3000; i++) {
      ps.push(db.delete(key(i)));
      m2.delete(hex(key(i)));
    }
    await Promise.all(ps);
    await db.reclaim();

    const after = db.stats();
    expect(after.commits - before.commits).toBeGreaterThan(10);
    // Far more was written than one segment holds: many segment files were made.
    expect(after.pagesOnDisk).toBeGreaterThan(5 * 16);
    // The snapshots' reads go to disk (the cache is small), into blocks the
    // live tree no longer uses: they must not have been freed.
    const misses = db.stats().cacheMisses;
    expectView(s0, m0copy);
    expect(db.stats().cacheMisses).toBeGreaterThan(misses);
    expectView(s1, m1copy);
    expectView(db, m2);

    // Released, the snapshots' space goes back once the tree is cleaned.
    s0.release();
    s0.release(); // idempotent
    s1.release();
    await db.reclaim();
    const freed = db.stats();
    expect(freed.segmentsFreed).toBeGreaterThan(after.segmentsFreed);
    expect(freed.pagesOnDisk).toBeLessThan(after.pagesOnDisk);
    expect(freed.pagesOnDisk).toBeLessThan(2 * freed.pagesLive + 32);
    expectView(db, m2);
    expectCheck(db);
  });

  it('a range iterator made before many writes yields the old commit when consumed later, in both directions', async () => {
    const db = openStore(tmp(), SMALL);
    const m: Model = new Map();
    await load(db, m, 0, 3000, 0);
    const old = refRange(m);
    const fwd = db.range();
    const rev = db.range({ reverse: true });
    const mid = db.keys({ gte: key(1200), lt: key(1800) });
    const head: [string, string][] = [];
    const tail: [string, string][] = [];
    for (let i = 0; i < 10; i++) {
      const f = fwd.next().value!;
      const r = rev.next().value!;
      head.push([hex(f[0]), hex(f[1])]);
      tail.push([hex(r[0]), hex(r[1])]);
    }
    // Overwrite everything, delete half, add new keys, and clean.
    await load(db, m, 0, 3000, 1);
    const dels: Promise<boolean>[] = [];
    for (let i = 0; i < 3000; i += 2) dels.push(db.delete(key(i)));
    await Promise.all(dels);
    await load(db, m, 5000, 6000, 2);
    await db.reclaim();
    head.push(...pairsHex(fwd));
    tail.push(...pairsHex(rev));
    expect(head).toEqual(old);
    expect(tail).toEqual([...old].reverse());
    expect(keysHex(mid)).toEqual(old.filter(([k]) => k >= hex(key(1200)) && k < hex(key(1800))).map(([k]) => k));
    expect(db.get(key(0))).toBeUndefined();
    expect(db.get(key(1))?.toString()).toBe(val(1, 1).toString());
    expectCheck(db);
  });

  it('each snapshot sees its own commit, and never writes that had not resolved when it was taken', async () => {
    const db = openStore();
    const snaps: { s: Snapshot; m: Model }[] = [];
    const m: Model = new Map();
    snaps.push({ s: db.snapshot(), m: new Map(m) });
    for (let round = 0; round < 6; round++) {
      const p = load(db, m, round * 100, round * 100 + 300, round);
      const pending = db.snapshot(); // taken while the writes are queued
      await p;
      expect([...pending.range()].length).toBe(snaps[snaps.length - 1]!.m.size);
      pending.release();
      snaps.push({ s: db.snapshot(), m: new Map(m) });
    }
    expect(snaps[0]!.m.size).toBe(0);
    expect(snaps[6]!.m.size).toBe(800);
    for (const i of [3, 0, 6, 1, 5, 2, 4]) {
      const { s, m: sm } = snaps[i]!;
      expect(pairsHex(s.range())).toEqual(refRange(sm));
      expect(pairsHex(s.range({ reverse: true, limit: 7 }))).toEqual(refRange(sm, { reverse: true, limit: 7 }));
      if (sm.size > 0) expect(hex(s.get(key(250))!)).toBe(sm.get(hex(key(250))));
      s.release();
    }
    expectCheck(db);
  });

  it('release() is idempotent, and a released snapshot refuses every read with BIRCH_CLOSED', async () => {
    const db = openStore();
    await db.put('a', '1');
    const s = db.snapshot();
    const it = s.range();
    const ks = s.keys();
    expect(it.next().value![0].toString()).toBe('a');
    s.release();
    s.release();
    expectThrowCode(() => s.get('a'), 'BIRCH_CLOSED');
    expectThrowCode(() => s.range(), 'BIRCH_CLOSED');
    expectThrowCode(() => s.keys({ reverse: true }), 'BIRCH_CLOSED');
    expectThrowCode(() => it.next(), 'BIRCH_CLOSED');
    expectThrowCode(() => ks.next(), 'BIRCH_CLOSED');
    expect(() => s.release()).not.toThrow();
    // The store itself is unaffected.
    expect(db.get('a')?.toString()).toBe('1');
    const s2 = db.snapshot();
    expect(s2.get('a')?.toString()).toBe('1');
    s2.release();
    expectCheck(db);
  });

  it('snapshots of a closed store refuse reads; release() after close is harmless', async () => {
    const dir = tmp();
    const db = openStore(dir);
    await db.put('a', '1');
    const s = db.snapshot();
    await db.close();
    expectThrowCode(() => s.get('a'), 'BIRCH_CLOSED');
    expectThrowCode(() => s.range(), 'BIRCH_CLOSED');
    expectThrowCode(() => db.snapshot(), 'BIRCH_CLOSED');
    expect(() => s.release()).not.toThrow();
    expect(() => s.release()).not.toThrow();
    const db2 = openStore(dir);
    expect(db2.get('a')?.toString()).toBe('1');
    expectCheck(db2);
  });
});

describe('pins and space', () => {
  /** A store whose whole tree is then rewritten twice: lots of garbage below the head. */
  async function garbageAfter(db: Store, m: Model, gen: number): Promise<void> {
    await load(db, m, 0, 3000, gen);
    await load(db, m, 0, 3000, gen + 1);
  }

  /** After reclaim with nothing pinned, disk use is close to the live tree. */
  const compact = (db: Store): boolean => {
    const s = db.stats();
    return s.pagesOnDisk < 2 * s.pagesLive + 32;
  };

  it('a held iterator keeps its blocks; finishing, breaking or returning gives them back', async () => {
    const db = openStore(tmp(), SMALL);
    const m: Model = new Map();
    await load(db, m, 0, 3000, 0);
    const held = db.range();
    held.next();
    await garbageAfter(db, m, 1);
    await db.reclaim();
    // The held iterator pins the first commit's blocks: nothing below them goes.
    expect(compact(db)).toBe(false);
    const big = db.stats().pagesOnDisk;
    expect(held.next().done).toBe(false);

    // Iterators that end, in every way, while `held` is still open.
    for (const [k] of db.range()) if (k.length > 0) break; // for..of + break
    for (const [k] of db.range({ reverse: true })) if (k.length > 0) break;
    for (const k of db.keys({ prefix: 'key:00' })) if (k.length > 0) break;
    [...db.range({ limit: 3 })]; // exhausted by its limit
    db.keys({ limit: 1 }).next(); // a limit of 1 ends after one pair, without a further next()
    [...db.keys({ gt: key(10), lt: key(10) })]; // empty interval
    [...db.range({ limit: 0 })];
    [...db.keys({ prefix: 'nothing' })];
    const s = db.snapshot();
    for (const [k] of s.range()) if (k.length > 0) break;
    [...s.keys({ reverse: true, limit: 2 })];
    s.release();

    held.return!();
    expect(held.next().done).toBe(true);
    await garbageAfter(db, m, 3);
    await db.reclaim();
    expect(compact(db)).toBe(true);
    expect(db.stats().pagesOnDisk).toBeLessThan(big);
    expect(db.stats().segmentsFreed).toBeGreaterThan(0);
    expectView(db, m);
    expectCheck(db);
  });

  it('a held snapshot keeps its blocks until released', async () => {
    const db = openStore(tmp(), SMALL);
    const m: Model = new Map();
    await load(db, m, 0, 3000, 0);
    const s = db.snapshot();
    await garbageAfter(db, m, 1);
    await db.reclaim();
    expect(compact(db)).toBe(false);
    s.release();
    await db.reclaim();
    expect(compact(db)).toBe(true);
    expectCheck(db);
  });

  it("releasing a snapshot also gives back the pins of its unfinished iterators (they can't go on)", async () => {
    const db = openStore(tmp(), SMALL);
    const m: Model = new Map();
    await load(db, m, 0, 3000, 0);
    const s = db.snapshot();
    const it = s.range();
    const it2 = s.keys({ reverse: true });
    it.next();
    it2.next();
    s.release();
    expectThrowCode(() => it.next(), 'BIRCH_CLOSED');
    await garbageAfter(db, m, 1);
    await db.reclaim();
    expect(compact(db)).toBe(true);
    expectThrowCode(() => it2.next(), 'BIRCH_CLOSED');
    expect(it2.return!().done).toBe(true);
    expectView(db, m);
    expectCheck(db);
  });

  it('with the cleaner on, reclaim and background cleaning never break a snapshot', async () => {
    const db = openStore(tmp(), { ...SMALL, cleaning: 1000 });
    const m: Model = new Map();
    await load(db, m, 0, 2000, 0);
    const s = db.snapshot();
    const frozen = new Map(m);
    for (let g = 1; g < 8; g++) {
      await load(db, m, 0, 2000, g);
      await new Promise((r) => setTimeout(r, 20));
    }
    await db.reclaim();
    expectView(s, frozen);
    s.release();
    await db.reclaim();
    expect(compact(db)).toBe(true);
    expectView(db, m);
    expectCheck(db);
  });
});

describe('garbage collection', () => {
  it('an iterator of a snapshot that is no longer referenced keeps working (the snapshot is not collected under it)', async () => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const db = openStore(tmp(), SMALL);
    const m: Model = new Map();
    await load(db, m, 0, 2000, 0);
    const frozen = refRange(m);
    // Only the iterator is kept; the snapshot object itself becomes garbage.
    const it = ((): IterableIterator<[Buffer, Buffer]> => db.snapshot().range())();
    const first = it.next().value!;
    for (let i = 0; i < 6; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    await garbage(db, m);
    await db.reclaim();
    const rest = pairsHex(it);
    expect([[hex(first[0]), hex(first[1])], ...rest]).toEqual(frozen);
    expectCheck(db);
  });
});

describe('garbage collection of dropped views', () => {
  it('snapshots and iterators dropped without release give their pins back once collected', async () => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const db = openStore(tmp(), SMALL);
    const m: Model = new Map();
    await load(db, m, 0, 2000, 0);
    ((): void => {
      const s = db.snapshot();
      s.range().next();
      s.keys({ reverse: true }).next();
      db.range().next();
      db.snapshot().get(key(1));
    })();
    // (Whether they were collected already is up to V8: no assertion here.)
    await garbage(db, m);
    await db.reclaim();
    for (let i = 0; i < 6; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    await garbage(db, m);
    await db.reclaim();
    const s = db.stats();
    expect(s.pagesOnDisk).toBeLessThan(2 * s.pagesLive + 32);
    expectView(db, m);
    expectCheck(db);
  });
});

async function garbage(db: Store, m: Model): Promise<void> {
  await load(db, m, 0, 2000, 1);
  await load(db, m, 0, 2000, 2);
}
