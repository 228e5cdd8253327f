/**
 * The cleaner driven by a fake clock, through the layers it sits on (block
 * store, tree), so that every tick is explicit. Every test keeps a model of
 * what each key must hold (a value, or absent) and compares every key's
 * value with it: a cleaner that rewrote a leaf with stale contents would
 * keep the keys present with the wrong values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockStore } from '../../src/lbs/index.js';
import { Tree, WorkingTree, makeEntry, sortKey, type Op } from '../../src/btree/index.js';
import { Cleaner } from '../../src/cleaner/index.js';
import { findLeaf } from '../../src/btree/find.js';
import type { Leaf } from '../../src/btree/node.js';
import type { Node } from '../../src/btree/node.js';
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

/** What every key written so far must hold: its value, or undefined (deleted: absent). */
type Model = Map<string, string | undefined>;

/** Every key of `model` reads back as the model says, and the tree holds no other key. */
function expectModel(tree: Tree, model: Model, what = 'the tree'): void {
  const wrong: string[] = [];
  let present = 0;
  for (const [k, v] of model) {
    const got = tree.get(sortKey(Buffer.from(k)))?.toString();
    if (v !== undefined) present++;
    if (got !== v && wrong.length < 5) wrong.push(`${k}: ${String(got)} instead of ${String(v)}`);
  }
  expect(wrong, `${what}: values`).toEqual([]);
  expect(tree.committed.keys, `${what}: key count`).toBe(present);
}

interface Rig {
  lbs: BlockStore;
  tree: Tree;
  cleaner: Cleaner;
  clock: { now: number };
}

function rig(dir: string, cleaning: number, spaceTarget?: number, realClock = false): Rig {
  const lbs = BlockStore.open(dir, { blockSize: 4096, segmentSize: 64 * 4096, sync: false });
  const tree = new Tree(lbs, { cacheSize: 1 << 20 });
  const clock = { now: 0 };
  const cleaner = new Cleaner(tree, {
    cleaning,
    ...(realClock ? {} : { now: () => clock.now }),
    ...(spaceTarget !== undefined ? { spaceTarget } : {}),
  });
  return { lbs, tree, cleaner, clock };
}

function findLeafBlock(r: Rig, k: Buffer): number {
  return findLeaf(r.tree.cache, r.tree.committed.root, k, 0, k.length).blockNo;
}

function allLeafBlocks(r: Rig): number[] {
  const out: number[] = [];
  const walk = (n: Node): void => {
    if (n.leaf) out.push(n.blockNo);
    else for (let i = 0; i < n.count; i++) walk(r.tree.cache.get(n.blocks[i]!));
  };
  walk(r.tree.committed.root);
  return out;
}

/** The keys the delete test keeps: the first 1,000, then one in 20. */
function kept(i: number): boolean {
  return i < 1000 || i % 20 === 0;
}

/** Fisher-Yates with a small LCG, so a failure replays. */
function shuffle(a: number[], seed: number): void {
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

/** Pages the log spans from the oldest live leaf to its head. */
function span(r: Rig): number {
  return r.lbs.nextBlock - r.tree.committed.oldest;
}

/** Let the clock run: `seconds` ticks, each followed by a pause for the idle cleaner's commits. */
async function idleFor(r: Rig, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    r.clock.now += 1000;
    r.cleaner.tick();
    await new Promise((res) => setTimeout(res, 30));
  }
  await r.tree.idle();
}

function expectChecked(r: Rig): void {
  const report = r.tree.check();
  expect(report.problems).toEqual([]);
}

async function load(tree: Tree, n: number, gen: number, model?: Model): Promise<void> {
  const ps: Promise<void>[] = [];
  for (let i = 0; i < n; i++) ps.push(submit(tree, [{ kind: 'put', entry: makeEntry(key(i), val(i, gen)) }]));
  await Promise.all(ps);
  for (let i = 0; i < n; i++) model?.set(key(i).toString(), val(i, gen).toString());
}

async function overwriteRandom(tree: Tree, n: number, count: number, gen: number, seed: number, model?: Model): Promise<void> {
  let s = seed;
  const ps: Promise<void>[] = [];
  for (let j = 0; j < count; j++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const i = s % n;
    ps.push(submit(tree, [{ kind: 'put', entry: makeEntry(key(i), val(i, gen)) }]));
    model?.set(key(i).toString(), val(i, gen).toString());
    if (ps.length >= 512) await Promise.all(ps.splice(0));
  }
  await Promise.all(ps);
}

describe('cleaner', () => {
  it('rewrites old leaves as the debt asks, frees whole segments below the oldest live block, and keeps the tree valid', async () => {
    // A space target so loose that the pacer never acts: the debt alone cleans.
    const r = rig(tmp(), 1, 100);
    const N = 20_000;
    const model: Model = new Map();
    await load(r.tree, N, 0, model);
    // Scattered overwrites of a few keys: the leaves holding the rest grow old.
    await overwriteRandom(r.tree, N, 4000, 1, 7, model);
    expect(r.cleaner.pagesCleaned).toBe(0);
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
    expectModel(r.tree, model);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('does almost nothing while a bulk load writes in key order', async () => {
    const r = rig(tmp(), 1);
    const model: Model = new Map();
    r.cleaner.tick();
    for (let chunk = 0; chunk < 20; chunk++) {
      for (let i = chunk * 2000; i < (chunk + 1) * 2000; i++) model.set(key(i).toString(), val(i, 0).toString());
      const ps: Promise<void>[] = [];
      for (let i = chunk * 2000; i < (chunk + 1) * 2000; i++) ps.push(submit(r.tree, [{ kind: 'put', entry: makeEntry(key(i), val(i, 0)) }]));
      await Promise.all(ps);
      r.clock.now += 1000;
      r.cleaner.tick();
    }
    await r.tree.idle();
    const pages = r.tree.committed.pages;
    expect(r.cleaner.pagesCleaned).toBeLessThan(pages * 0.05);
    expectChecked(r);
    expectModel(r.tree, model);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('keeps the span of the log within the space target under sustained random overwrite, whatever the debt', async () => {
    // A rate so small the debt never reaches one page: only the pacer acts.
    const r = rig(tmp(), 1e-12, 1.5);
    const N = 20_000;
    const model: Model = new Map();
    await load(r.tree, N, 0, model);
    let worst = 0;
    let commitPages = 0;
    r.tree.addHooks({
      afterCommit: (info) => {
      commitPages = Math.max(commitPages, info.pagesWritten);
      worst = Math.max(worst, span(r) / r.tree.committed.pages);
      },
    });
    for (let gen = 1; gen <= 3; gen++) await overwriteRandom(r.tree, N, N, gen, 11 * gen, model);
    expectModel(r.tree, model, 'after generation 3');
    // A reader pins the commit of generation 3 while the pacer goes on.
    const snap = r.tree.committed;
    r.tree.pin(snap);
    const gen3 = Array.from({ length: N }, (_, i) => r.tree.get(sortKey(key(i)))!.toString());
    for (let gen = 4; gen <= 6; gen++) await overwriteRandom(r.tree, N, N, gen, 11 * gen, model);
    await r.lbs.free(r.tree.freeFloor);
    expect(r.tree.committed.oldest).toBeGreaterThan(snap.oldest); // the tree moved past it
    expect(r.lbs.firstBlock).toBeLessThanOrEqual(snap.oldest); // but its blocks stayed
    for (let i = 0; i < N; i++) expect(r.tree.getIn(snap, sortKey(key(i)), key(i).length + 1)?.toString()).toBe(gen3[i]);
    r.tree.unpin(snap);
    await r.lbs.free(r.tree.freeFloor);
    expect(r.lbs.firstBlock).toBeGreaterThan(snap.oldest);
    expect(r.cleaner.debt.debt).toBeLessThan(1);
    expect(r.cleaner.pagesCleaned).toBeGreaterThan(0);
    // The target, plus the rounding of one commit's pages.
    const live = r.tree.committed.pages;
    expect(worst).toBeLessThanOrEqual(1.5 + commitPages / live);
    expect(span(r)).toBeLessThanOrEqual(1.5 * live + commitPages);
    // Freed behind it: the disk holds the span plus at most one segment and one commit.
    await r.lbs.free(r.tree.freeFloor);
    expect(r.lbs.nextBlock - r.lbs.firstBlock).toBeLessThanOrEqual(span(r) + 64 + commitPages);
    expectChecked(r);
    expectModel(r.tree, model);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('without the pacer the same overwrite lets the log grow past the target', async () => {
    // The control for the test above: with cleaning off, nothing bounds the span.
    const r = rig(tmp(), 0, 1.5);
    const N = 20_000;
    await load(r.tree, N, 0);
    for (let gen = 1; gen <= 6; gen++) await overwriteRandom(r.tree, N, N, gen, 11 * gen);
    expect(span(r)).toBeGreaterThan(2 * r.tree.committed.pages);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('brings an idle store back within 2x of its live pages after most keys are deleted', async () => {
    const dir = tmp();
    const N = 20_000;
    const model: Model = new Map();
    {
      // Written with cleaning off: random overwrites, then 90% of the keys
      // deleted in random order, leave garbage all along the log, and the
      // first 1,000 keys, never touched, keep the oldest leaves in place.
      const w = rig(dir, 0);
      await load(w.tree, N, 0, model);
      await overwriteRandom(w.tree, N, N / 2, 1, 3, model);
      const doomed = Array.from({ length: N }, (_, i) => i).filter((i) => !kept(i));
      for (const i of doomed) model.set(key(i).toString(), undefined);
      shuffle(doomed, 17);
      for (let j = 0; j < doomed.length; j += 512) {
        await Promise.all(doomed.slice(j, j + 512).map((i) => submit(w.tree, [{ kind: 'del', key: sortKey(key(i)) }])));
      }
      await w.cleaner.stop();
      await w.lbs.close();
    }
    // Reopened with cleaning on: no state of the cleaner's own is needed.
    const r = rig(dir, 1);
    const disk = (): number => r.lbs.nextBlock - r.lbs.firstBlock;
    expect(r.tree.committed.keys).toBe(N / 10 - 50);
    expect(disk()).toBeGreaterThan(2 * r.tree.committed.pages);
    const cleanedBefore = r.cleaner.pagesCleaned;
    r.cleaner.tick();
    await idleFor(r, 60);
    await r.lbs.free(r.tree.freeFloor);
    expect(r.cleaner.pagesCleaned).toBeGreaterThan(cleanedBefore);
    expect(disk()).toBeLessThanOrEqual(2 * r.tree.committed.pages);
    expectChecked(r);
    expectModel(r.tree, model);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('leaves update passes in key order alone: they rewrite the oldest leaves themselves', async () => {
    // The real clock: passes at full speed, as a bulk update runs them.
    const r = rig(tmp(), 1, undefined, true);
    const N = 20_000;
    const model: Model = new Map();
    await load(r.tree, N, 0);
    r.cleaner.tick();
    const written0 = r.lbs.nextBlock;
    for (let i = 0; i < N; i++) model.set(key(i).toString(), val(i, 4).toString());
    for (let gen = 1; gen <= 4; gen++) {
      for (let chunk = 0; chunk < N; chunk += 2000) {
        const ps: Promise<void>[] = [];
        for (let i = chunk; i < chunk + 2000; i++) ps.push(submit(r.tree, [{ kind: 'put', entry: makeEntry(key(i), val(i, gen)) }]));
        await Promise.all(ps);
        r.cleaner.tick();
      }
    }
    await r.tree.idle();
    expect(r.cleaner.pagesCleaned).toBeLessThan((r.lbs.nextBlock - written0) * 0.05);
    expectChecked(r);
    expectModel(r.tree, model);
    await r.cleaner.stop();
    await r.lbs.close();
  });

  it('yields the event loop between slices of a large clean inside one batch', async () => {
    const dir = tmp();
    const N = 20_000;
    const model: Model = new Map();
    {
      const w = rig(dir, 0);
      await load(w.tree, N, 0, model);
      for (let gen = 1; gen <= 3; gen++) await overwriteRandom(w.tree, N, N, gen, 5 * gen, model);
      await w.cleaner.stop();
      await w.lbs.close();
    }
    const lbs = BlockStore.open(dir, { blockSize: 4096, segmentSize: 64 * 4096, sync: false });
    const tree = new Tree(lbs, { cacheSize: 1 << 20 });
    // The debt's rule (the pacer kept out by a loose target): it takes up to
    // max(sliceLeaves, batch operations) = 50 of the oldest leaves.
    const clock = { now: 0 };
    const cleaner = new Cleaner(tree, { cleaning: 1, spaceTarget: 100, sliceLeaves: 8, now: () => clock.now });
    cleaner.tick();
    clock.now += 1000;
    cleaner.tick();
    expect(cleaner.debt.debt).toBeGreaterThan(50);
    // Count touches, and sample the count from other turns of the event loop.
    const proto = WorkingTree.prototype;
    const touch = proto.touch;
    let touches = 0;
    proto.touch = function (this: WorkingTree, k: Buffer): void {
      touches++;
      touch.call(this, k);
    };
    const seen: number[] = [];
    let done = false;
    const sample = (): void => {
      seen.push(touches);
      if (!done) setImmediate(sample);
    };
    try {
      const ops: Op[] = [];
      for (let i = 0; i < 50; i++) {
        ops.push({ kind: 'put', entry: makeEntry(key(i * 7), val(i, 9)) });
        model.set(key(i * 7).toString(), val(i, 9).toString());
      }
      const p = submit(tree, ops);
      setImmediate(sample);
      await p;
    } finally {
      done = true;
      proto.touch = touch;
    }
    // One batch of 50 operations: 50 leaves, 8 between yields.
    expect(touches).toBe(50);
    expect(cleaner.pagesCleaned).toBeGreaterThan(16);
    expect(seen.some((n) => n > 0 && n < touches)).toBe(true);
    for (const n of seen) if (n > 0 && n < touches) expect(n % 8).toBe(0);
    expect(tree.check().problems).toEqual([]);
    expectModel(tree, model);
    await cleaner.stop();
    await lbs.close();
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

describe('a batch that writes in the very leaves the cleaner rewrites in it', () => {
  // The cleaner dirties the oldest leaves of the COMMITTED tree after the
  // batch's own operations have applied; a leaf the batch changed must be
  // rewritten with the batch's changes, never with its committed contents.
  for (const rule of ['pacer', 'debt', 'idle', 'reclaim'] as const) {
    it(`keeps the batch's puts, inserts and deletes (${rule === 'idle' ? "the cleaner's idle commit, joined by the batch" : rule})`, async () => {
      const lbs = BlockStore.open(tmp(), { blockSize: 4096, segmentSize: 64 * 4096, sync: false });
      const tree = new Tree(lbs, { cacheSize: 1 << 20 });
      const clock = { now: 0 };
      const cleaner = new Cleaner(tree, {
        cleaning: rule === 'reclaim' ? 0 : rule === 'pacer' ? 1e-12 : 1,
        spaceTarget: rule === 'pacer' ? 1.1 : 100, // 100: the pacer stays out
        sliceLeaves: 8,
        now: () => clock.now,
      });
      const N = 10_000;
      const model: Model = new Map();
      await load(tree, N, 0, model);
      // Rewrite the upper half: garbage, and the leaves of the lower half lie far behind the head.
      const rewriteUpperHalf = async (gen: number): Promise<void> => {
        for (let i = N / 2; i < N; i += 500) {
          await Promise.all(Array.from({ length: 500 }, (_, j) => submit(tree, [{ kind: 'put', entry: makeEntry(key(i + j), val(i + j, gen)) }])));
          for (let j = 0; j < 500; j++) model.set(key(i + j).toString(), val(i + j, gen).toString());
        }
      };
      await rewriteUpperHalf(1);
      if (rule === 'idle') cleaner.tick(); // the clock's first tick: from here the debt grows
      const touch = WorkingTree.prototype.touch;
      const touched = new Set<string>();
      WorkingTree.prototype.touch = function (this: WorkingTree, k: Buffer): void {
        touched.add(k.toString());
        touch.call(this, k);
      };
      try {
        for (let round = 0; round < 3; round++) {
          // Idle cleaning brings the disk down to the gate: garbage again.
          if (rule === 'idle' && round > 0) await rewriteUpperHalf(round + 1);
          // The pacer brings the span down to its target: garbage again,
          // written with the pacer held off so the span ends over the target.
          if (rule === 'pacer' && round > 0) {
            const paced = cleaner as { spaceTarget: number };
            paced.spaceTarget = 100;
            await rewriteUpperHalf(round + 1);
            paced.spaceTarget = 1.1;
          }
          // The four oldest leaves: in each, overwrite its first key, insert a
          // key right after it, and delete its second key.
          const oldest = tree.oldestLeaves(tree.committed);
          const targets: string[] = [];
          const ops: Op[] = [];
          for (let j = 0; j < 4; j++) {
            const first = oldest.take()!;
            const leaf = findLeaf(tree.cache, tree.committed.root, first, 0, first.length) as Leaf;
            expect(leaf.count).toBeGreaterThan(1);
            // Sort keys (keyspace byte, key): the raw keys are after the first byte.
            const second = Buffer.from(leaf.keyAt(1));
            const inserted = Buffer.concat([first, Buffer.from('+')]);
            const v = Buffer.from(`same batch ${round}.${j}`);
            ops.push({ kind: 'put', entry: makeEntry(first.subarray(1), v) }, { kind: 'put', entry: makeEntry(inserted.subarray(1), v) }, { kind: 'del', key: second });
            model.set(first.toString('latin1', 1), v.toString()).set(inserted.toString('latin1', 1), v.toString()).set(second.toString('latin1', 1), undefined);
            targets.push(first.toString());
          }
          touched.clear();
          const cleaned = cleaner.pagesCleaned;
          if (rule === 'debt') {
            // Debt without a tick of the clock (a tick would start idle commits first).
            const onDisk = lbs.nextBlock - lbs.firstBlock;
            cleaner.debt.tick(round * 2000, onDisk, tree.committed.pages);
            cleaner.debt.tick(round * 2000 + 1000, onDisk, tree.committed.pages);
            expect(cleaner.debt.debt).toBeGreaterThanOrEqual(8);
            await submit(tree, ops);
          } else if (rule === 'idle') {
            await tree.idle(); // the tick starts idle commits only when nothing runs
            clock.now += 1000;
            cleaner.tick(); // an idle commit starts: it is queued now...
            expect(tree.queued, `round ${round}: debt ${cleaner.debt.debt}, wants ${cleaner.wantsToClean()}, busy ${tree.busy}`).toBe(1);
            const p = submit(tree, ops); // ...and the batch joins it
            await p;
            await tree.idle();
          } else if (rule === 'reclaim') {
            const p = cleaner.reclaim();
            let q: Promise<void> | undefined;
            setImmediate(() => (q = submit(tree, ops))); // joins reclaim()'s first commit
            await p;
            await q;
          } else {
            await submit(tree, ops);
          }
          expect(cleaner.pagesCleaned, `round ${round}: the cleaner rewrote leaves`).toBeGreaterThan(cleaned);
          for (const t of targets) expect(touched.has(t), `round ${round}: the cleaner took the leaf of ${t}`).toBe(true);
          expectModel(tree, model, `${rule}, round ${round}`);
          expect(tree.check().problems).toEqual([]);
        }
      } finally {
        WorkingTree.prototype.touch = touch;
        await cleaner.stop();
        await lbs.close();
      }
      // And as written: reopened, the same.
      const again = BlockStore.open(lbs.dir, { sync: false });
      try {
        expectModel(new Tree(again, { cacheSize: 1 << 20 }), model, `${rule}, reopened`);
      } finally {
        await again.close();
      }
    });
  }
});

describe('the oldest leaves', () => {
  it('come out oldest first, each leaf once, and next is the oldest leaf not yet taken', async () => {
    const r = rig(tmp(), 0);
    const N = 8000;
    await load(r.tree, N, 0);
    await overwriteRandom(r.tree, N, 3000, 1, 5);
    const c = r.tree.committed;
    const leaves = r.tree.oldestLeaves(c);
    expect(leaves.next).toBe(c.oldest);
    const blocks: number[] = [];
    const firstKeys = new Set<string>();
    for (;;) {
      const expected = leaves.next;
      const k = leaves.take();
      if (k === undefined) break;
      // The leaf that key leads to is the one `next` announced.
      const leafBlock = findLeafBlock(r, k);
      expect(leafBlock).toBe(expected);
      blocks.push(leafBlock);
      firstKeys.add(k.toString('hex'));
    }
    expect(leaves.next).toBe(Infinity);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!).toBeGreaterThanOrEqual(blocks[i - 1]!);
    expect(new Set(blocks).size).toBe(blocks.length);
    expect(firstKeys.size).toBe(blocks.length);
    expect([...blocks].sort((a, b) => a - b)).toEqual(allLeafBlocks(r).sort((a, b) => a - b));
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
    for (let i = 0; i < N; i++) expect(again.get(key(i))?.toString(), `key ${i}`).toBe(i % 10 === 0 ? val(i, 3).toString() : undefined);
    expect(again.check().problems).toEqual([]);
    await again.close();
  });
});
