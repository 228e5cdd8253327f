/**
 * The cleaner driven by a fake clock, through the layers it sits on (block
 * store, tree), so that every tick is explicit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockStore } from '../../src/lbs/index.js';
import { Tree, checkTree, makeEntry, type Op } from '../../src/btree/index.js';
import { Cleaner } from '../../src/cleaner/index.js';
import { open } from '../../src/index.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-clean-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function submit(tree: Tree, ops: Op[]): Promise<void> {
  return new Promise((resolve, reject) => tree.submit({ op: ops, resolve: () => resolve(), reject }));
}

const key = (i: number): Buffer => Buffer.from(`key-${String(i).padStart(7, '0')}`);
const val = (i: number, gen: number): Buffer => Buffer.from(`value-${i}-${gen}`.padEnd(40, '.'));

interface Rig {
  lbs: BlockStore;
  tree: Tree;
  cleaner: Cleaner;
  clock: { now: number };
}

function rig(dir: string, cleaning: number): Rig {
  const lbs = BlockStore.open(dir, { blockSize: 4096, segmentSize: 64 * 4096, sync: false });
  const tree = new Tree(lbs, { cacheSize: 1 << 20 });
  const clock = { now: 0 };
  const cleaner = new Cleaner(tree, { cleaning, now: () => clock.now });
  return { lbs, tree, cleaner, clock };
}

function expectChecked(r: Rig): void {
  const report = checkTree(r.lbs, r.tree.committed, r.tree.nodeCapacity);
  expect(report.problems).toEqual([]);
}

async function load(tree: Tree, n: number, gen: number): Promise<void> {
  const ps: Promise<void>[] = [];
  for (let i = 0; i < n; i++) ps.push(submit(tree, [{ t: 'put', entry: makeEntry(key(i), val(i, gen)) }]));
  await Promise.all(ps);
}

async function overwriteRandom(tree: Tree, n: number, count: number, gen: number, seed: number): Promise<void> {
  let s = seed;
  const ps: Promise<void>[] = [];
  for (let j = 0; j < count; j++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const i = s % n;
    ps.push(submit(tree, [{ t: 'put', entry: makeEntry(key(i), val(i, gen)) }]));
    if (ps.length >= 512) await Promise.all(ps.splice(0));
  }
  await Promise.all(ps);
}

describe('cleaner', () => {
  it('rewrites old leaves, frees whole segments below the oldest live block, and keeps the tree valid', async () => {
    const r = rig(tmp(), 1);
    const N = 20_000;
    await load(r.tree, N, 0);
    // Scattered overwrites of a few keys: the leaves holding the rest grow old.
    await overwriteRandom(r.tree, N, 4000, 1, 7);
    const before = r.lbs.stats();
    const oldestBefore = r.tree.committed.oldest;
    r.cleaner.tick();
    r.clock.now += 1000;
    r.cleaner.tick(); // one second: debt = garbage pages
    expect(r.cleaner.debt.debt).toBeGreaterThan(0);
    for (let i = 0; i < 200 && r.cleaner.debt.debt >= 1; i++) {
      await r.tree.flush();
      expectChecked(r);
    }
    await r.lbs.free(r.tree.freeFloor);
    const after = r.lbs.stats();
    expect(r.cleaner.pagesCleaned).toBeGreaterThan(0);
    expect(r.tree.committed.oldest).toBeGreaterThan(oldestBefore);
    expect(after.firstBlock).toBeGreaterThan(before.firstBlock);
    // Nothing at or above the oldest live block was freed: every page reads.
    expect(after.firstBlock).toBeLessThanOrEqual(r.tree.committed.oldest);
    expectChecked(r);
    for (let i = 0; i < N; i += 97) expect(r.tree.get(key(i))).toBeDefined();
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('does almost nothing while a bulk load writes in key order', async () => {
    const r = rig(tmp(), 1);
    r.cleaner.tick();
    for (let chunk = 0; chunk < 20; chunk++) {
      const ps: Promise<void>[] = [];
      for (let i = chunk * 2000; i < (chunk + 1) * 2000; i++) ps.push(submit(r.tree, [{ t: 'put', entry: makeEntry(key(i), val(i, 0)) }]));
      await Promise.all(ps);
      r.clock.now += 1000;
      r.cleaner.tick();
    }
    await r.tree.idle();
    const pages = r.tree.committed.pages;
    expect(r.cleaner.pagesCleaned).toBeLessThan(pages * 0.05);
    expectChecked(r);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('with cleaning off never cleans', async () => {
    const r = rig(tmp(), 0);
    await load(r.tree, 5000, 0);
    await overwriteRandom(r.tree, 5000, 3000, 1, 3);
    for (let i = 0; i < 5; i++) {
      r.clock.now += 1000;
      r.cleaner.tick();
    }
    await r.tree.flush();
    expect(r.cleaner.pagesCleaned).toBe(0);
    expect(r.cleaner.debt.debt).toBe(0);
    await r.cleaner.stop();
    await r.lbs.close();
  });
});

describe('cleaning through the public API', () => {
  it('reclaim() brings disk use down to the live pages, and a held snapshot keeps its blocks until released', async () => {
    const dir = tmp();
    const db = open(dir, { segmentSize: 64 * 4096, cleaning: 0, sync: false });
    const N = 20_000;
    let ps: Promise<void>[] = [];
    for (let i = 0; i < N; i++) ps.push(db.put(key(i), val(i, 0)));
    await Promise.all(ps);
    const snap = db.snapshot();
    // Delete 90% and overwrite the rest a few times: lots of garbage.
    ps = [];
    for (let i = 0; i < N; i++) {
      if (i % 10 !== 0) ps.push(db.delete(key(i)).then(() => undefined));
    }
    await Promise.all(ps);
    for (let gen = 1; gen <= 3; gen++) {
      ps = [];
      for (let i = 0; i < N; i += 10) ps.push(db.put(key(i), val(i, gen)));
      await Promise.all(ps);
    }
    await db.reclaim();
    // The snapshot still reads its commit exactly, while cleaning rewrote everything.
    for (let i = 0; i < N; i += 7) expect(snap.get(key(i))?.toString()).toBe(val(i, 0).toString());
    let count = 0;
    for (const [k, v] of snap.range()) {
      const i = Number(k.toString().slice(4));
      expect(v.toString()).toBe(val(i, 0).toString());
      count++;
    }
    expect(count).toBe(N);
    const held = db.stats();
    snap.release();
    await db.reclaim();
    const s = db.stats();
    expect(s.keys).toBe(N / 10);
    expect(s.segmentsFreed).toBeGreaterThan(held.segmentsFreed);
    // Whole segments only: at most one partly used segment before the live pages.
    expect(s.pagesOnDisk).toBeLessThanOrEqual(s.pagesLive + 2 * 64);
    expect(db.check().problems).toEqual([]);
    await db.close();
    // Reopen after cleaning: same contents, valid tree.
    const again = open(dir, { sync: false });
    expect(again.stats().keys).toBe(N / 10);
    for (let i = 0; i < N; i += 10) expect(again.get(key(i))?.toString()).toBe(val(i, 3).toString());
    expect(again.get(key(1))).toBeUndefined();
    expect(again.check().problems).toEqual([]);
    await again.close();
  });
});
