/**
 * Crashes around recovery, for the whole store (FaultFS):
 *
 * 1. A process kill at every Nth operation of a workload (calls fail from op
 *    k on, the store is closed, the simulated page cache survives), then a
 *    restart on the SAME unsynced file system: the reopened store must show
 *    a valid prefix; it may read only (seed 1) or go on writing; then the
 *    power fails. What the restarted store showed and acknowledged must all
 *    still be there: recovery must make the tail it adopted durable. Once
 *    with the cleaner off, once with it on in both processes (the pacer
 *    rewriting leaves in the killed process's batches; the restarted one
 *    starts an idle clean as it opens, over what recovery adopted).
 * 2. A power loss that leaves a torn tail, then a power loss at every
 *    operation of the recovery that follows (opening, truncating the torn
 *    append, fsyncs, the first writes after it): every outcome must be the
 *    first run's prefix followed by a prefix of the second run's requests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open, type Store } from '../../src/index.js';
import { findPrefix, readState } from '../../src/cli/model.js';
import { keyOf } from '../../src/cli/workload.js';
import type { FileIO } from '../../src/lbs/fileio.js';
import {
  CLEANER_OPTS,
  CRASH_OPTS,
  FaultFS,
  Recorder,
  Rng,
  batch,
  buildStore,
  del,
  put,
  randomReq,
  rmDir,
  runTrial,
  tmpDir,
  valueFor,
  verifyChain,
  verifyStore,
  probe,
  type State,
  type TrialSpec,
  type Workload,
} from '../helpers/storecrash.js';

const SOAK = process.env.BIRCH_SOAK === '1';
const STRIDE = SOAK ? 1 : 3;
const SEEDS = SOAK ? [1, 2, 3, 4, 5, 6] : [1, 2, 3];

const figures = { killPoints: 0, restarts: 0, recoveryCrashPoints: 0, tornTails: 0, ackedVerified: 0 };
afterAll(() => {
  console.log(
    `[store-recovery] stride ${STRIDE}: ${figures.killPoints} kill points x ${SEEDS.length} seeds = ${figures.restarts} kill+restart+power-loss runs; ` +
      `${figures.tornTails} torn tails, each with a power loss at every op of its recovery (${figures.recoveryCrashPoints} in all); ` +
      `${figures.ackedVerified} acknowledged requests verified`,
  );
});

const roots: string[] = [];
afterAll(() => roots.forEach(rmDir));

async function makeTemplate(): Promise<{ dir: string; state: State }> {
  const root = tmpDir('birch-template-');
  roots.push(root);
  const dir = path.join(root, 'store');
  const rng = new Rng(41);
  const state = await buildStore(dir, Array.from({ length: 250 }, (_, i) => randomReq(rng, 300, `t${i}`)));
  return { dir, state };
}

const workload: Workload = async (db, rec) => {
  const rng = new Rng(42);
  for (let wave = 0; wave < 24 && !rec.failed; wave++) {
    const n = rng.range(1, 6);
    const ps = Array.from({ length: n }, (_, j) => rec.issue(db, randomReq(rng, 300, `w${wave}.${j}`)));
    if (wave % 3 === 0) await new Promise((r) => setImmediate(r));
    else await Promise.all(ps);
  }
};

/** The requests the restarted process issues. */
function afterReqs(tag: string): ReturnType<typeof put>[] {
  const rng = new Rng(43);
  return [
    put(keyOf(1), valueFor(rng, `${tag}.a`)),
    batch([put(keyOf(2), valueFor(rng, `${tag}.b`)), del(keyOf(3)), put(keyOf(4), valueFor(rng, `${tag}.c`))]),
    put(keyOf(5), valueFor(rng, `${tag}.d`)),
  ];
}

const opening = {
  /** Whether opening the store in `disk` writes anything: a torn tail to clear (zeroed, or cut past the file's size). */
  async repairs(disk: string): Promise<boolean> {
    const run = await runTrial({ template: disk, workload: async () => undefined });
    try {
      return run.io.trace.includes('write') || run.io.trace.includes('truncate');
    } finally {
      rmDir(run.root);
    }
  },
};

describe('store recovery under crashes', () => {
  for (const { cleaner, opts, stride } of [
    { cleaner: 'off', opts: CRASH_OPTS, stride: STRIDE },
    { cleaner: 'on', opts: CLEANER_OPTS, stride: 2 * STRIDE },
  ]) {
    it(`a process kill at every Nth op, a restart on the same unsynced disk, more writes, then a power loss (cleaner ${cleaner})`, async () => {
      const t = await makeTemplate();
      let cleaned = 0;
      const counted: Workload = async (db, rec) => {
        await workload(db, rec);
        await rec.settle();
        cleaned = db.stats().pagesCleaned;
      };
      const spec: TrialSpec = { template: t.dir, workload: counted, opts, clock: cleaner === 'on' };
      const p = await probe(spec);
      if (cleaner === 'on') expect(cleaned, 'leaves the cleaner rewrote in the fault-free run').toBeGreaterThan(20);
      for (let k = 1; k <= p.ops; k += k <= 30 ? 1 : stride) {
        figures.killPoints++;
        for (const seed of SEEDS) {
          const run = await runTrial(spec, (io) => io.failAt({ n: k, code: 'EIO', sticky: true, kill: true }));
          try {
            run.io.clearFaults(); // the process died; its successor runs on the same page cache
            const what = `cleaner ${cleaner}: kill at op ${k}/${p.ops} (${p.trace[k - 1]}), seed ${seed}`;
            const db = open(run.dir, { ...opts, io: run.io as FileIO } as Parameters<typeof open>[1]);
            let shown: State;
            const rec2 = new Recorder();
            try {
              expect(db.check().problems, `${what}: check() after the restart`).toEqual([]);
              shown = readState(db);
              expect(findPrefix(t.state, run.rec.reqs, run.rec.mustHave, run.rec.reqs.length, shown), `${what}: the restarted store shows a prefix`).toBeGreaterThanOrEqual(0);
              if (seed !== 1) {
                for (const r of afterReqs(`s${seed}`)) await rec2.issue(db, r);
                expect(rec2.ackedCount, `${what}: writes after the restart`).toBe(3);
              }
            } finally {
              await db.close();
            }
            run.io.crash(new Rng(seed));
            const v = await verifyStore(run.dir, shown, rec2, `${what}, then power loss`);
            // Everything shown and everything acknowledged after the restart survived.
            expect(v.prefix, `${what}: all of the restarted process's writes survive`).toBe(rec2.reqs.length);
            figures.restarts++;
            figures.ackedVerified += run.rec.ackedCount + rec2.ackedCount;
          } finally {
            rmDir(run.root);
          }
        }
      }
    });
  }

  it('a power loss during the recovery of a torn tail, at every op of it', async () => {
    const t = await makeTemplate();
    const spec: TrialSpec = { template: t.dir, workload };
    const p = await probe(spec);
    const syncs = p.trace.flatMap((kind, i) => (kind === 'fdatasync' ? [i + 1] : []));
    // Crashes at a sync (a write pending) often tear the tail: collect such disks.
    const wanted = SOAK ? 12 : 4;
    let tried = 0;
    for (let s = 0; s < syncs.length && figures.tornTails < wanted; s += Math.max(1, Math.floor(syncs.length / (3 * wanted)))) {
      for (const seed of [1, 2, 3, 4, 5]) {
        if (figures.tornTails >= wanted) break;
        tried++;
        const k = syncs[s]!;
        const first = await runTrial(spec, (io) => io.failAt({ n: k, code: 'EIO', sticky: true }));
        try {
          first.io.crash(new Rng(seed));
          // The disk as the power loss left it: every recovery attempt starts from a copy.
          const disk = path.join(first.root, 'disk');
          fs.cpSync(first.dir, disk, { recursive: true });
          const recovery: TrialSpec = {
            template: disk,
            workload: async (db, rec) => {
              for (const r of afterReqs('rec')) {
                await rec.issue(db, r);
                if (rec.failed) return;
              }
            },
          };
          const rp = await probe(recovery);
          if (!(await opening.repairs(disk))) continue; // the tail was not torn
          figures.tornTails++;
          for (let j = 1; j <= rp.ops + 1; j++) {
            figures.recoveryCrashPoints++;
            for (const seed2 of [1, 2]) {
              const second = await runTrial(recovery, (io) => io.failAt({ n: j, code: 'EIO', sticky: true }));
              try {
                second.io.crash(new Rng(seed2));
                const what = `power loss at op ${k} (seed ${seed}), then at op ${j}/${rp.ops} (${rp.trace[j - 1] ?? 'end'}) of the recovery (seed ${seed2})`;
                await verifyChain(second.dir, t.state, first.rec, second.rec, what);
                figures.ackedVerified += first.rec.ackedCount + second.rec.ackedCount;
              } finally {
                rmDir(second.root);
              }
            }
          }
        } finally {
          rmDir(first.root);
        }
      }
    }
    expect(figures.tornTails, `torn tails found in ${tried} power losses`).toBe(wanted);
  });

  it('a store whose creation was cut short by a power loss opens (empty) and works', async () => {
    const rng = new Rng(51);
    const spec: TrialSpec = {
      workload: async (db, rec) => {
        await rec.issue(db, put('a', valueFor(rng, 'a')));
      },
    };
    const p = await probe(spec);
    let opened = 0;
    for (let k = 1; k <= p.ops; k++) {
      for (const seed of [1, 2, 3, 4]) {
        const run = await runTrial(spec, (io) => io.failAt({ n: k, code: 'ENOSPC', sticky: true }));
        try {
          run.io.crash(new Rng(seed));
          const what = `creation cut at op ${k}/${p.ops} (${p.trace[k - 1]}), seed ${seed}`;
          await verifyStore(run.dir, new Map(), run.rec, what);
          // And the store is usable afterwards: a write, a reopen, and it is there.
          let db: Store = open(run.dir, { ...CRASH_OPTS, sync: false });
          await db.put('after', 'crash');
          await db.close();
          db = open(run.dir, { ...CRASH_OPTS, sync: false });
          expect(db.get('after')?.toString(), what).toBe('crash');
          await db.close();
          opened++;
        } finally {
          rmDir(run.root);
        }
      }
    }
    expect(opened).toBe(4 * p.ops);
  });
});
