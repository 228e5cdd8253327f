/**
 * I/O errors under the whole store, injected with FaultFS: EIO and ENOSPC on
 * write, on fsync, on creating a segment file (and the directory fsync after
 * it), on read, and on deleting freed segments. Required:
 *   - the operation caught by it rejects (or throws) with a BirchError
 *     BIRCH_IO whose cause is the system error;
 *   - nothing is acknowledged that was not durable: after the error, a power
 *     loss, and a reopen, every acknowledged write is there;
 *   - after a failed write or fsync the store accepts no more writes (nor
 *     reclaim()) until reopened, while reads keep serving the last commit;
 *   - a failed read fails only what needed it: the store goes on;
 *   - after ENOSPC is cleared, a reopened store works and lost nothing.
 * FaultFS models a failed fsync as Linux does (the unsynced writes leave the
 * durable path; a later fsync succeeds without them), so after a failed
 * fdatasync and a power loss, with or without a reopen in between, the
 * store must hold every acknowledged write and the rest must be a prefix.
 * The last tests inject one fault at every Nth operation of a workload that
 * reopens the store after each failure and goes on, then cut the power:
 * once with the cleaner off, once with it on (the pacer, and idle cleaning
 * on the cleaner's clock, faked so that it ticks where the workload says).
 */
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BirchError, open, type OpenOptions, type Store } from '../../src/index.js';
import type { Tree } from '../../src/btree/index.js';
import { applyReq, findPrefix, readState } from '../../src/cli/model.js';
import { keyOf } from '../../src/cli/workload.js';
import type { FileIO } from '../../src/lbs/fileio.js';
import type { OpKind } from '../helpers/faultfs.js';
import {
  CLEANER_OPTS,
  CRASH_OPTS,
  FaultFS,
  Recorder,
  Rng,
  batch,
  buildStore,
  cleanerClock,
  del,
  openStore,
  put,
  randomReq,
  rmDir,
  tmpDir,
  valueFor,
  verifyStore,
  type State,
  type WReq,
} from '../helpers/storecrash.js';

const SOAK = process.env.BIRCH_SOAK === '1';
const STRIDE = SOAK ? 1 : 2;

const figures = { faults: 0, sweepPoints: 0, ackedVerified: 0 };
afterAll(() => {
  console.log(
    `[ioerror-store] ${figures.faults} I/O faults injected (${figures.sweepPoints} of them by the sweep, stride ${STRIDE}); ` +
      `${figures.ackedVerified} acknowledged requests verified after them`,
  );
});

const roots: string[] = [];
afterEach(() => {
  roots.splice(0).forEach(rmDir);
  cleanerClock.uninstall();
});

interface Env {
  root: string;
  dir: string;
  io: FaultFS;
  db: Store;
  /** With `clock`: the tree under db, and the cleaner's clock is the test's. */
  tree?: Tree;
  start: State;
  rec: Recorder;
  opts: OpenOptions;
  clock: boolean;
}

/** A store of 200 keys (built with the real fs, cleaner off), opened on FaultFS. */
async function env(opts: OpenOptions = CRASH_OPTS, keys = 200, clock = false): Promise<Env> {
  const root = tmpDir();
  roots.push(root);
  const dir = path.join(root, 'store');
  const rng = new Rng(61);
  const start = await buildStore(dir, Array.from({ length: keys }, (_, i) => put(keyOf(i), valueFor(rng, `t${i}`))), { ...opts, cleaning: 0 });
  const io = new FaultFS(root);
  const e: Env = { root, dir, io, db: undefined as unknown as Store, start, rec: new Recorder(), opts, clock };
  if (clock) cleanerClock.install();
  e.db = reopen(e);
  return e;
}

/** Open the store again on the same FaultFS (from its parts, with the tree, under `clock`). */
function reopen(e: Env): Store {
  const opts = { ...e.opts, io: e.io as FileIO };
  if (!e.clock) return open(e.dir, opts as OpenOptions);
  const o = openStore(e.dir, opts);
  e.tree = o.tree;
  return o.db;
}

async function rejection(p: Promise<unknown>): Promise<BirchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BirchError);
    return err as BirchError;
  }
  return expect.fail('expected a rejection');
}

function thrown(fn: () => unknown): BirchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BirchError);
    return err as BirchError;
  }
  return expect.fail('expected a throw');
}

function expectIO(err: BirchError, sys: 'EIO' | 'ENOSPC'): void {
  expect(err.code).toBe('BIRCH_IO');
  // The system error is the cause (directly, or of the failure it refers to).
  let c: unknown = err;
  while (c instanceof BirchError) c = c.cause;
  expect((c as NodeJS.ErrnoException | undefined)?.code).toBe(sys);
}

/** Acknowledge some writes, then fail the next call of `kind`; the write caught by it and its batch mates reject. */
async function failOneWrite(e: Env, kind: OpKind, code: 'EIO' | 'ENOSPC'): Promise<WReq[]> {
  const rng = new Rng(62);
  for (let i = 0; i < 5; i++) await e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `ok${i}`)));
  expect(e.rec.ackedCount).toBe(5);
  e.io.failAt({ n: 1, kind, code });
  figures.faults++;
  const doomed = [put(keyOf(7), 'doomed'), batch([put(keyOf(8), 'doomed'), put(keyOf(9), 'doomed')]), put(keyOf(10), 'doomed')];
  const ps = doomed.map((r) => e.db.batch(r.ops.map((o) => ({ type: 'put' as const, key: o.key, value: (o as { value: Buffer }).value }))));
  for (const p of ps) expectIO(await rejection(p), code);
  return doomed;
}

/** After a failed write or fsync: no more writes, reads serve the last commit. */
async function expectFailedStore(e: Env, code: 'EIO' | 'ENOSPC'): Promise<void> {
  expectIO(await rejection(e.db.put('x', 'y')), code);
  expectIO(await rejection(e.db.batch([{ type: 'put', key: 'x', value: 'y' }])), code);
  expectIO(await rejection(e.db.delete(keyOf(0))), code);
  expectIO(await rejection(e.db.reclaim()), code);
  expect(e.db.get(keyOf(7))?.toString()).not.toBe('doomed');
  const model = new Map(e.start);
  for (let i = 0; i < e.rec.reqs.length; i++) if (e.rec.acked[i]) applyReq(model, e.rec.reqs[i]!);
  expect(readState(e.db)).toEqual(model);
  expect(e.db.check().ok).toBe(true);
}

/** Close, reopen on the same (unsynced) disk: all acknowledged there, the doomed writes not; it takes writes; then a power loss. */
async function expectRecovers(e: Env, what: string): Promise<void> {
  await e.db.close();
  e.io.clearFaults();
  const db = reopen(e);
  const shown = readState(db);
  expect(findPrefix(e.start, e.rec.reqs, e.rec.mustHave, e.rec.mustHave, shown), `${what}: reopened store`).toBe(e.rec.mustHave);
  expect(db.get(keyOf(7))?.toString(), `${what}: a rejected write`).not.toBe('doomed');
  const after = new Recorder();
  await after.issue(db, put('after', 'the error'));
  await after.issue(db, batch([put(keyOf(7), 'now'), put(keyOf(8), 'fine')]));
  expect(after.ackedCount).toBe(2);
  await db.close();
  e.io.crash(new Rng(1));
  const v = await verifyStore(e.dir, shown, after, `${what}, then a power loss`);
  expect(v.prefix).toBe(2);
  figures.ackedVerified += e.rec.ackedCount + after.ackedCount;
}

describe('I/O errors on the write path', () => {
  for (const code of ['EIO', 'ENOSPC'] as const) {
    it(`${code} on write: the batch rejects, the store refuses writes until reopened, nothing acknowledged is lost`, async () => {
      const e = await env();
      await failOneWrite(e, 'write', code);
      await expectFailedStore(e, code);
      await expectRecovers(e, `${code} on write`);
    });

    it(`${code} on fsync: the batch rejects (its data never counts), no more writes until reopened`, async () => {
      const e = await env();
      await failOneWrite(e, 'fdatasync', code);
      // Even once the disk is fine again, a failed fsync is final for this handle.
      e.io.clearFaults();
      await expectFailedStore(e, code);
      await expectRecovers(e, `${code} on fsync`);
    });
  }

  for (const [kind, code] of [
    ['open', 'ENOSPC'],
    ['open', 'EIO'],
    ['fsyncDir', 'EIO'],
  ] as const) {
    it(`${code} on creating a segment file (${kind}): the write that needed it rejects, then as above`, async () => {
      const e = await env({ ...CRASH_OPTS, segmentSize: 4 * 2048 });
      const rng = new Rng(63);
      // A snapshot pins the old pages: no segment is freed (free() syncs the directory too).
      const snap = e.db.snapshot();
      // Write until this handle has made a segment file of its own; from then
      // on every file it uses is open, so the next open/fsyncDir is a rollover's.
      const opens = e.io.count('open');
      for (let i = 0; e.io.count('open') === opens; i++) await e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `p${i}`)));
      expect(e.rec.failed).toBe(false);
      e.io.failAt({ n: 1, kind, code });
      figures.faults++;
      let err: BirchError | undefined;
      for (let i = 0; i < 50 && err === undefined; i++) {
        try {
          await e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `s${i}`)));
          if (e.rec.failed) throw e.rec.firstError;
        } catch (x) {
          err = x as BirchError;
        }
      }
      expect(err, 'a rollover happened').toBeDefined();
      expectIO(err!, code);
      expect(e.rec.ackedCount).toBeGreaterThan(0);
      snap.release();
      await expectFailedStore(e, code);
      await expectRecovers(e, `${code} on ${kind}`);
    });
  }

  it('ENOSPC that lasts: every write rejects meanwhile; once space is back a reopened store works and lost nothing', async () => {
    const e = await env();
    const rng = new Rng(64);
    for (let i = 0; i < 4; i++) await e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `a${i}`)));
    e.io.failAt({ n: 1, kind: 'write', code: 'ENOSPC', sticky: true });
    figures.faults++;
    for (let i = 0; i < 5; i++) expectIO(await rejection(e.db.put(keyOf(100 + i), 'no space')), 'ENOSPC');
    await e.db.close();
    // Still no space: a reopen works (it reads and syncs; not being able to
    // write its last append again only keeps it from taking writes), writes still fail.
    let db = reopen(e);
    expectIO(await rejection(db.put('x', 'y')), 'ENOSPC');
    await db.close();
    e.io.clearFaults();
    db = reopen(e);
    e.db = db;
    await expectRecovers(e, 'ENOSPC cleared');
  });
});

describe('a failed fsync, as Linux reports it (the unsynced pages dropped, the error reported once)', () => {
  it('EIO or ENOSPC on fsync, then a power loss at once: every acknowledged write is there, and nothing but a prefix', async () => {
    let adopted = 0;
    let dropped = 0;
    for (const code of ['EIO', 'ENOSPC'] as const) {
      // 18 seeds: the store's clean-up after the failed fsync is a 4-byte
      // write (segment files keep their size), which a power loss keeps more
      // often than it kept the truncate it replaced, so adoption is rarer.
      for (let seed = 1; seed <= 18; seed++) {
        const e = await env();
        const rng = new Rng(67);
        for (let i = 0; i < 5; i++) await e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `ok${i}`)));
        e.io.failAt({ n: 1, kind: 'fdatasync', code });
        figures.faults++;
        // One batch, one append: its fdatasync fails.
        const doomed = [put(keyOf(7), 'doomed'), batch([put(keyOf(8), 'doomed'), del(keyOf(9))]), put(keyOf(10), 'doomed')];
        await Promise.all(doomed.map((r) => e.rec.issue(e.db, r)));
        expect(e.rec.ackedCount).toBe(5);
        expectIO(e.rec.firstError as BirchError, code);
        await e.db.close();
        e.io.crash(new Rng(seed));
        const what = `${code} on fsync, then a power loss (seed ${seed})`;
        const v = await verifyStore(e.dir, e.start, e.rec, what);
        // The failed append is "not known durable": gone, or (its pages reached
        // the disk in the failed write-back, the clean-up write did not) there whole.
        if (v.prefix > 5) adopted++;
        else dropped++;
        figures.ackedVerified += 5;
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(adopted).toBeGreaterThan(0);
  });

  it('with the cleaner on, EIO on fsync: neither the pacer nor idle cleaning writes until reopened; then as above', async () => {
    const e = await env(CLEANER_OPTS, 200, true);
    await e.tree!.idle(); // opening over the target starts an idle clean
    const cleaned = e.db.stats().pagesCleaned;
    await failOneWrite(e, 'fdatasync', 'EIO');
    expect(e.db.stats().pagesCleaned, 'the cleaner took leaves in the failed batch').toBeGreaterThan(cleaned);
    const writes = e.io.count('write');
    for (let i = 0; i < 3; i++) await cleanerClock.tick(e.tree);
    expect(e.io.count('write'), 'idle cleaning after the failure').toBe(writes);
    await expectFailedStore(e, 'EIO');
    expect(e.io.count('write')).toBe(writes);
    await expectRecovers(e, 'EIO on fsync, the cleaner on');
  });

  it('a kill leaves an append unsynced, the next open fails on its fsync, a retried open serves only what it made durable', async () => {
    let adopted = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const e = await env();
      const rng = new Rng(68);
      for (let i = 0; i < 4; i++) await e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `ok${i}`)));
      // Killed in the next commit's fdatasync: its append is written, in the page cache only
      // (the dying process does not get to cut it away either).
      e.io.failAt({ n: 1, kind: 'fdatasync', code: 'EIO', sticky: true, kill: true });
      e.io.failAt({ n: 1, kind: 'truncate', code: 'EIO', sticky: true, kill: true });
      e.io.failAt({ n: 2, kind: 'write', code: 'EIO', sticky: true, kill: true }); // the clean-up write after the append's own
      await e.rec.issue(e.db, batch([put(keyOf(20), 'unsynced'), del(keyOf(1))]));
      expect(e.rec.ackedCount).toBe(4);
      await e.db.close();
      e.io.clearFaults();
      // The next process: its recovery adopts that append, and its fsync fails (the pages are dropped).
      e.io.failAt({ n: 1, kind: 'fdatasync', code: 'EIO' });
      figures.faults++;
      expectIO(thrown(() => reopen(e)), 'EIO');
      // It retries: the open succeeds, and must have made durable what it serves.
      const db = reopen(e);
      const shown = readState(db);
      if (shown.get(keyOf(20).toString('hex')) === Buffer.from('unsynced').toString('hex')) adopted++;
      expect(findPrefix(e.start, e.rec.reqs, e.rec.mustHave, e.rec.reqs.length, shown), 'the retried open shows a prefix').toBeGreaterThanOrEqual(0);
      const after = new Recorder();
      await after.issue(db, put('after', 'the retry'));
      await after.issue(db, batch([put(keyOf(21), 'later'), del(keyOf(2))]));
      expect(after.ackedCount).toBe(2);
      await db.close();
      e.io.crash(new Rng(seed));
      const v = await verifyStore(e.dir, shown, after, `kill, failed fsync on reopen, retry, power loss (seed ${seed})`);
      expect(v.prefix).toBe(2);
      figures.ackedVerified += e.rec.ackedCount + after.ackedCount;
    }
    expect(adopted, 'the retried open served the unsynced append').toBe(6);
  });
});

describe('I/O errors on the read path', () => {
  it('EIO on read: get, range, check and a write that needed the page fail with BIRCH_IO; the store goes on', async () => {
    const e = await env({ ...CRASH_OPTS, cacheSize: 0 }, 1000); // a cache of 8 nodes: most lookups read
    const db = e.db;
    const want = readState(db);
    figures.faults++;
    e.io.failAt({ n: 1, kind: 'read', code: 'EIO' });
    let failed: number | undefined;
    for (let i = 0; i < 1000 && failed === undefined; i += 37) {
      try {
        expect(db.get(keyOf(i))?.toString('hex')).toBe(want.get(keyOf(i).toString('hex')));
      } catch (err) {
        expectIO(err as BirchError, 'EIO');
        failed = i;
      }
    }
    expect(failed, 'a get() had to read').toBeDefined();
    expect(db.get(keyOf(failed!))?.toString('hex')).toBe(want.get(keyOf(failed!).toString('hex'))); // transient
    figures.faults++;
    e.io.failAt({ n: 3, kind: 'read', code: 'EIO' });
    const it = db.range();
    expectIO(
      thrown(() => {
        for (const _ of it) void _;
      }),
      'EIO',
    );
    figures.faults++;
    e.io.failAt({ n: 2, kind: 'read', code: 'EIO' });
    const c = db.check();
    expect(c.ok).toBe(false);
    expect(c.problems.map((p) => p.code)).toContain('BIRCH_IO');
    expect(db.check().ok).toBe(true);
    figures.faults++;
    e.io.failAt({ n: 1, kind: 'read', code: 'EIO' });
    expectIO(await rejection(db.put(keyOf(120), 'needs its leaf')), 'EIO');
    // Not a failed store: the next write works.
    await e.rec.issue(db, put(keyOf(121), 'works'));
    expect(e.rec.ackedCount).toBe(1);
    expect(readState(db).size).toBe(want.size);
    await db.close();
    e.io.clearFaults();
    const db2 = reopen(e);
    expect(db2.get(keyOf(121))?.toString()).toBe('works');
    expect(db2.get(keyOf(120))?.toString()).not.toBe('needs its leaf');
    await db2.close();
  });

  for (const code of ['EIO', 'ENOSPC'] as const) {
    it(`${code} at every call of open(): BIRCH_IO, no lock left behind, and the next open works`, async () => {
      const e = await env();
      await e.db.close();
      const before = e.io.ops;
      const db0 = reopen(e);
      const calls = e.io.ops - before;
      const kinds = e.io.trace.slice(before);
      await db0.close();
      expect(kinds).toContain('write'); // the last append, written again before the fsync
      for (let n = 1; n <= calls; n++) {
        e.io.failAt({ n, code });
        figures.faults++;
        if (kinds[n - 1] === 'write') {
          // Not being able to write the last append again does not stop a
          // reader: the store opens, but takes no writes until reopened.
          const db = reopen(e);
          expectIO(await rejection(db.put('x', 'y')), code);
          expect(readState(db)).toEqual(e.start);
          await db.close();
        } else {
          const err = thrown(() => reopen(e));
          expect(err.code, `fault at call ${n} of ${calls} (${kinds[n - 1]})`).toBe('BIRCH_IO');
        }
        e.io.clearFaults();
        const db = reopen(e); // synchronously: the failed open released its lock
        expect(readState(db)).toEqual(e.start);
        await db.close();
      }
    });
  }
});

describe('I/O errors while cleaning', () => {
  it('EIO on deleting a freed segment: reclaim() still finishes, the store works and reopens whole', async () => {
    const opts = { ...CRASH_OPTS, segmentSize: 4 * 2048 };
    const e = await env(opts);
    const rng = new Rng(65);
    for (let r = 0; r < 3; r++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => e.rec.issue(e.db, put(keyOf(i), valueFor(rng, `r${r}.${i}`)))));
    }
    e.io.failAt({ n: 1, kind: 'unlink', code: 'EIO' });
    figures.faults++;
    await e.db.reclaim();
    expect(e.io.count('unlink')).toBeGreaterThan(0);
    await e.rec.issue(e.db, put('after', 'reclaim'));
    expect(e.rec.failed).toBe(false);
    await e.db.close();
    e.io.crash(new Rng(2));
    await verifyStore(e.dir, e.start, e.rec, 'EIO on unlink');
  });
});

describe('one I/O fault at every Nth operation of a workload that reopens after each failure', () => {
  const configs = [
    { name: 'the cleaner off', opts: { ...CRASH_OPTS, segmentSize: 6 * 2048 }, clock: false, stride: STRIDE },
    // The pacer in user batches, and idle cleaning where the workload ticks
    // the clock. It makes almost twice the operations: half as many faults.
    { name: 'the cleaner on', opts: { ...CLEANER_OPTS, segmentSize: 6 * 2048 }, clock: true, stride: 2 * STRIDE },
  ];
  for (const { name, opts, clock, stride } of configs) {
    it(`with ${name}, then a power loss: every acknowledged write survives`, async () => {
      // The workload: 30 waves of random requests with a reclaim() in the middle
      // (with the clock: a tick after every other wave, waited for or joined by the next wave).
      const work = async (e: Env, k: number | undefined, code: 'EIO' | 'ENOSPC'): Promise<{ ops: number; sessions: number; cleaned: number }> => {
        const rng = new Rng(66);
        let db = e.db;
        let start = e.start;
        let rec = new Recorder();
        let sessions = 1;
        let cleaned = 0;
        const base = e.io.ops;
        if (k !== undefined) e.io.failAt({ n: k, code });
        for (let wave = 0; wave < 30; wave++) {
          const n = rng.range(1, 5);
          await Promise.all(Array.from({ length: n }, (_, j) => rec.issue(db, randomReq(rng, 250, `w${wave}.${j}`))));
          if (wave === 15) await db.reclaim().catch(() => undefined);
          if (clock && wave % 4 === 1) await cleanerClock.tick(e.tree);
          if (clock && wave % 4 === 3) void cleanerClock.tick();
          let broken = rec.failed;
          if (!broken && wave % 5 === 4) {
            // reads see every acknowledged write (a read fault here is a failure too)
            try {
              readState(db);
            } catch (err) {
              expect((err as BirchError).code).toBe('BIRCH_IO');
              broken = true;
            }
          }
          if (broken) {
            // The application reopens the store and goes on.
            cleaned += db.stats().pagesCleaned;
            await db.close();
            db = reopen(e);
            sessions++;
            const shown = readState(db);
            expect(findPrefix(start, rec.reqs, rec.mustHave, rec.reqs.length, shown), `fault at op ${k}: reopened store`).toBeGreaterThanOrEqual(0);
            figures.ackedVerified += rec.ackedCount;
            start = shown;
            rec = new Recorder();
          }
        }
        cleaned += db.stats().pagesCleaned;
        await db.close();
        e.db = db;
        e.start = start;
        e.rec = rec;
        return { ops: e.io.ops - base, sessions, cleaned };
      };
      const clean = await env(opts, 200, clock);
      const { ops, cleaned } = await work(clean, undefined, 'EIO');
      if (clock) expect(cleaned, 'leaves the cleaner rewrote in the fault-free run').toBeGreaterThan(30);
      cleanerClock.uninstall();
      let reopened = 0;
      for (let k = 1; k <= ops; k += stride) {
        const code = k % 2 === 0 ? 'ENOSPC' : 'EIO';
        const e = await env(opts, 200, clock);
        figures.faults++;
        figures.sweepPoints++;
        const r = await work(e, k, code);
        cleanerClock.uninstall();
        if (r.sessions > 1) reopened++;
        e.io.crash(new Rng(k));
        const v = await verifyStore(e.dir, e.start, e.rec, `${name}: one ${code} at op ${k}/${ops}, then a power loss`, opts);
        expect(v.prefix, `one ${code} at op ${k}: every request of the last session was acknowledged and survives`).toBe(e.rec.reqs.length);
        figures.ackedVerified += e.rec.ackedCount;
        rmDir(e.root);
        roots.splice(roots.indexOf(e.root), 1);
      }
      expect(reopened).toBeGreaterThan(ops / stride / 3);
    });
  }
});
