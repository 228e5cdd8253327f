/**
 * Power loss at every Nth file operation of whole-store workloads, simulated
 * with FaultFS: each workload is run once to count its operations; then for
 * each crash point k (every operation with BIRCH_SOAK=1, a stride of them in
 * CI: see STRIDE) it is rerun with every call from the k-th on failing (the
 * machine is going down), the power is cut (FaultFS.crash: unsynced writes
 * dropped, kept or torn, unsynced directory entries kept or lost), and the
 * store is reopened with the real file system. verifyStore() then requires:
 * it opens, check() passes, the state is exactly the start plus a prefix of
 * the issued requests that holds every acknowledged one (nothing
 * acknowledged lost, no batch half there), get() and reverse range() agree,
 * and a second reopen shows the same.
 *
 * Workloads: creating the store then a bulk load in key order; random
 * updates, deletes and batches with many requests in flight; cleaning
 * (reclaim() while writes go on: old leaves rewritten, old segments
 * deleted). All use 2 KiB blocks and 32 KiB segments, so every one rolls
 * over segment files. Recovery itself is covered in store-recovery.test.ts.
 *
 * And with the background cleaner on (those above run with cleaning 0):
 * the pacer (spaceTarget 1.1), which rewrites the oldest leaves inside the
 * users' own batches, next to their writes and deletes of the same leaves;
 * and idle cleaning, driven by the cleaner's clock (faked, so that it ticks
 * exactly where the workload says): commits of its own, alone or with user
 * writes joining them, while a snapshot pins an old commit and is read
 * back whole before it is released.
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../src/cli/workload.js';
import type { Snapshot } from '../../src/index.js';
import {
  CLEANER_OPTS,
  CRASH_OPTS,
  Rng,
  cleanerClock,
  injected,
  batch,
  buildStore,
  probe,
  put,
  randomReq,
  rmDir,
  runTrial,
  tmpDir,
  valueFor,
  verifyStore,
  type State,
  type TrialSpec,
  type Workload,
} from '../helpers/storecrash.js';

const SOAK = process.env.BIRCH_SOAK === '1';
/** Crash at every STRIDE-th operation (1 = all of them). */
const STRIDE = SOAK ? 1 : 3;
const SEEDS = SOAK ? [1, 2, 3, 4] : [1];
/** A crash at a sync leaves the most pending: more seeds there. */
const SYNC_SEEDS = SOAK ? [1, 2, 3, 4, 5, 6, 7, 8] : [1, 2];

const figures = { crashPoints: 0, trials: 0, ackedRequests: 0, ackedWrites: 0, unackedSeen: 0, pacerLeaves: 0, idleLeaves: 0, freed: 0 };
afterAll(() => {
  console.log(
    `[store-powerloss] stride ${STRIDE}: ${figures.crashPoints} crash points, ${figures.trials} power losses, ` +
      `${figures.ackedRequests} acknowledged requests (${figures.ackedWrites} writes) verified, ` +
      `${figures.unackedSeen} unacknowledged requests found committed; with the cleaner on, a fault-free run ` +
      `rewrites ${figures.pacerLeaves} leaves by the pacer in user batches and ${figures.idleLeaves} by idle commits, ` +
      `and frees ${figures.freed} segments`,
  );
});

const templates: string[] = [];
afterAll(() => templates.forEach(rmDir));

async function template(reqs: ReturnType<typeof randomReq>[]): Promise<{ dir: string; state: State }> {
  const root = tmpDir('birch-template-');
  templates.push(root);
  const dir = path.join(root, 'store');
  const state = await buildStore(dir, reqs);
  return { dir, state };
}

/** Crash at every STRIDE-th operation of `spec`'s workload, verify each. */
async function sweep(name: string, spec: TrialSpec, start: State): Promise<void> {
  const p = await probe(spec);
  expect(p.ops).toBeGreaterThan(20);
  for (let k = 1; k <= p.ops + 1; k += k <= 40 ? 1 : STRIDE) {
    const kind = p.trace[k - 1] ?? 'end';
    const seeds = kind === 'fdatasync' || kind === 'fsyncDir' ? SYNC_SEEDS : SEEDS;
    figures.crashPoints++;
    for (const seed of seeds) {
      const run = await runTrial(spec, (io) => io.failAt({ n: k, code: 'EIO', sticky: true }));
      try {
        run.io.crash(new Rng(seed));
        const what = `${name}: power loss at op ${k}/${p.ops} (${kind}), seed ${seed}`;
        const v = await verifyStore(run.dir, start, run.rec, what);
        figures.trials++;
        figures.unackedSeen += v.prefix - run.rec.mustHave;
        run.rec.reqs.forEach((r, i) => {
          if (run.rec.acked[i]) {
            figures.ackedRequests++;
            figures.ackedWrites += r.ops.length;
          }
        });
      } finally {
        rmDir(run.root);
      }
    }
  }
}

describe('store power loss', () => {
  it('creating the store, then a bulk load in key order', async () => {
    const rng = new Rng(11);
    const pairs = Array.from({ length: 480 }, (_, i) => put(keyOf(i), valueFor(rng, `b${i}`)));
    pairs.sort((a, b) => Buffer.compare(a.ops[0]!.key, b.ops[0]!.key));
    const workload: Workload = async (db, rec) => {
      for (let i = 0; i < pairs.length && !rec.failed; i += 24) {
        await Promise.all(pairs.slice(i, i + 24).map((r) => rec.issue(db, r)));
      }
    };
    await sweep('create + bulk load', { workload }, new Map());
  });

  it('random updates, deletes and batches, many in flight', async () => {
    const trng = new Rng(21);
    const t = await template(Array.from({ length: 300 }, (_, i) => randomReq(trng, 400, `t${i}`)));
    const workload: Workload = async (db, rec) => {
      const rng = new Rng(22); // the same requests every run
      for (let wave = 0; wave < 40 && !rec.failed; wave++) {
        const n = rng.range(1, 8);
        const ps = Array.from({ length: n }, (_, j) => rec.issue(db, randomReq(rng, 400, `w${wave}.${j}`)));
        // Every other wave overlaps the next one: it is issued while this one's commit runs.
        if (wave % 2 === 0) await new Promise((r) => setImmediate(r));
        else await Promise.all(ps);
      }
    };
    await sweep('random updates', { template: t.dir, workload }, t.state);
  });

  it('cleaning: reclaim() rewriting old leaves and deleting old segments while writes go on', async () => {
    const trng = new Rng(31);
    const reqs = Array.from({ length: 260 }, (_, i) => put(keyOf(i), valueFor(trng, `t${i}`)));
    // Rewrite most keys twice more: plenty of garbage in the old segments.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 260; i += 2) reqs.push(put(keyOf(i + round), valueFor(trng, `r${round}.${i}`)));
    }
    const t = await template(reqs);
    const workload: Workload = async (db, rec) => {
      const rng = new Rng(32);
      const wave = async (n: number, tag: string): Promise<void> => {
        await Promise.all(Array.from({ length: n }, (_, j) => rec.issue(db, randomReq(rng, 300, `${tag}.${j}`, 6))));
      };
      await wave(3, 'a');
      if (rec.failed) return;
      const cleaning = db.reclaim().catch(() => undefined);
      await wave(6, 'b'); // joins the cleaner's commits
      await cleaning;
      if (rec.failed) return;
      await wave(4, 'c');
      if (rec.failed) return;
      await rec.issue(db, batch([put(keyOf(1), 'last'), put(keyOf(2), 'batch')]));
      await db.reclaim().catch(() => undefined);
    };
    const p = await probe({ template: t.dir, workload });
    expect(p.trace.filter((k) => k === 'unlink').length, 'the workload deletes segments').toBeGreaterThan(0);
    await sweep('cleaning', { template: t.dir, workload }, t.state);
  });
});

/** Everything a snapshot shows, as hex key -> hex value. */
function readView(v: Snapshot): State {
  const s: State = new Map();
  for (const [k, val] of v.range()) s.set(k.toString('hex'), val.toString('hex'));
  return s;
}

describe('store power loss with the cleaner on', () => {
  /** What the cleaner did in the last run (the probe's, when read right after it). */
  const did = { byUsers: 0, idle: 0, freed: 0, snapshotRead: false };

  it('the pacer: old leaves rewritten inside batches that write and delete in the same leaves, segments freed', async () => {
    const trng = new Rng(121);
    const t = await template(Array.from({ length: 300 }, (_, i) => randomReq(trng, 300, `t${i}`)));
    const workload: Workload = async (db, rec, tree) => {
      const rng = new Rng(122);
      await tree!.idle(); // the idle clean that opening starts (the log is over the target)
      const cleaned0 = db.stats().pagesCleaned;
      for (let wave = 0; wave < 30 && !rec.failed; wave++) {
        const n = rng.range(1, 8);
        const ps = Array.from({ length: n }, (_, j) => rec.issue(db, randomReq(rng, 300, `w${wave}.${j}`)));
        if (wave % 2 === 0) await new Promise((r) => setImmediate(r));
        else await Promise.all(ps);
      }
      await rec.settle();
      const s = db.stats();
      did.byUsers = s.pagesCleaned - cleaned0;
      did.freed = s.segmentsFreed;
    };
    const spec: TrialSpec = { template: t.dir, workload, opts: CLEANER_OPTS, clock: true };
    await probe(spec);
    // 30 to 40 (a batch waits for requests that keep arriving, so waves issued
    // a turn apart share commits: fewer commits, fewer pacer rounds).
    expect(did.byUsers, 'leaves the pacer rewrote inside user batches').toBeGreaterThan(20);
    expect(did.freed, 'segments freed').toBeGreaterThan(0);
    figures.pacerLeaves += did.byUsers;
    figures.freed += did.freed;
    await sweep('pacer', spec, t.state);
  });

  it("idle cleaning on the cleaner's clock, alone and joined by writes, under a snapshot read back whole", async () => {
    const trng = new Rng(131);
    const reqs = Array.from({ length: 260 }, (_, i) => put(keyOf(i), valueFor(trng, `t${i}`)));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 260; i += 2) reqs.push(put(keyOf(i + round), valueFor(trng, `r${round}.${i}`)));
    }
    const t = await template(reqs);
    const workload: Workload = async (db, rec, tree) => {
      const rng = new Rng(132);
      did.idle = 0;
      did.snapshotRead = false;
      const idleTick = async (): Promise<void> => {
        const before = db.stats().pagesCleaned;
        await cleanerClock.tick(tree);
        did.idle += db.stats().pagesCleaned - before;
      };
      await tree!.idle();
      await idleTick(); // the first tick measures from opening: from now on the debt grows
      const snap = db.snapshot();
      let held: State | undefined;
      try {
        held = readView(snap);
        for (let wave = 0; wave < 14 && !rec.failed; wave++) {
          const n = rng.range(1, 6);
          await Promise.all(Array.from({ length: n }, (_, j) => rec.issue(db, randomReq(rng, 300, `w${wave}.${j}`, 6))));
          if (rec.failed) break;
          if (wave % 3 === 0) {
            await idleTick(); // the cleaner commits alone
          } else if (wave % 3 === 1) {
            void cleanerClock.tick(); // ... and the next wave joins its first commit
          }
          if (wave === 9) {
            // The pinned commit reads back exactly, after all that cleaning; then it goes.
            expect(readView(snap), 'the snapshot, after idle cleaning').toEqual(held);
            did.snapshotRead = true;
            snap.release();
          }
        }
        if (!rec.failed) await idleTick();
      } catch (err) {
        if (!injected(err)) throw err; // a read failed because the fault (the power going down) hit it
      } finally {
        snap.release();
      }
      did.freed = db.stats().segmentsFreed;
    };
    const spec: TrialSpec = { template: t.dir, workload, opts: { ...CRASH_OPTS, cleaning: 1 }, clock: true };
    const p = await probe(spec);
    expect(did.snapshotRead).toBe(true);
    expect(did.idle, 'leaves rewritten by idle commits').toBeGreaterThan(20);
    expect(did.freed, 'segments freed').toBeGreaterThan(0);
    expect(p.trace.filter((k) => k === 'unlink').length).toBeGreaterThan(0);
    figures.idleLeaves += did.idle;
    figures.freed += did.freed;
    await sweep('idle cleaning', spec, t.state);
  });
});

export { CRASH_OPTS };
