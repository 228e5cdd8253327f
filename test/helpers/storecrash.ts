/**
 * Crash-test plumbing for the WHOLE store (test/crash/store-*.test.ts and
 * ioerror-*.test.ts): a recorder of the requests a workload issues and which
 * of them were acknowledged, trial runners on FaultFS, and the verifier that
 * reopens a store with the real file system and requires
 *   - it opens and check() passes,
 *   - its state is the start state with exactly some prefix of the issued
 *     requests applied, a prefix that holds every acknowledged request (so
 *     no acknowledged write is lost and no batch is half there),
 *   - get() agrees, and a second reopen shows the same state.
 * The model and the prefix search are src/cli/model.ts, shared with
 * `birch torture`.
 *
 * With the cleaner on (CLEANER_OPTS), a trial opens the store the way open()
 * does but from its parts (openStore), so that the workload sees the tree,
 * and with the cleaner's once-a-second clock under the test's control
 * (cleanerClock): idle cleaning commits exactly where the workload ticks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, vi } from 'vitest';
import { open, type OpenOptions, type Store } from '../../src/index.js';
import { Store as StoreClass } from '../../src/api/store.js';
import { resolveOptions } from '../../src/api/options.js';
import { MIN_TREE_BLOCK_SIZE, Tree } from '../../src/btree/index.js';
import { BlockStore } from '../../src/lbs/index.js';
import { analyzeLosses } from '../../src/cli/losses.js';
import { applyReq, findPrefix, readState, statesEqual, type State } from '../../src/cli/model.js';
import { issue, keyOf, type WReq } from '../../src/cli/workload.js';
import type { FileIO } from '../../src/lbs/fileio.js';
import { FaultFS } from './faultfs.js';
import { Rng } from './rng.js';
import { rmDir } from './tmp.js';

export type { State, WReq };

/** The requests a workload issued, in order, and which were acknowledged. */
export class Recorder {
  readonly reqs: WReq[] = [];
  readonly acked: boolean[] = [];
  firstError: unknown;
  private pending = new Set<Promise<void>>();

  /** Issue `req` on `db`; never rejects (a rejection is recorded). */
  issue(db: Store, req: WReq): Promise<void> {
    const i = this.reqs.length;
    this.reqs.push(req);
    this.acked.push(false);
    const p = issue(db, req).then(
      () => {
        this.acked[i] = true;
      },
      (err: unknown) => {
        this.firstError ??= err;
      },
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  /** Wait for every request issued so far. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  get failed(): boolean {
    return this.firstError !== undefined;
  }

  /** One past the last acknowledged request: the shortest prefix a recovered store may show. */
  get mustHave(): number {
    return this.acked.lastIndexOf(true) + 1;
  }

  get ackedCount(): number {
    return this.acked.filter(Boolean).length;
  }
}

/** Options every crash test opens its stores with (small blocks and segments: deep trees, many files). */
export const CRASH_OPTS: OpenOptions = { blockSize: 2048, segmentSize: 16 * 2048, cleaning: 0 };

/**
 * The same with the cleaner on: the pacer rewrites old leaves inside user
 * batches whenever the log spans more than 1.1 times the live pages (with
 * these small stores, most commits), and the debt (cleaning 1 per second)
 * grows on every tick of the cleaner's clock.
 */
export const CLEANER_OPTS: OpenOptions = { ...CRASH_OPTS, cleaning: 1, spaceTarget: 1.1 };

/** A store and the tree under it. */
export interface Opened {
  db: Store;
  tree: Tree;
}

/**
 * open(), built from its parts as src/api/store.ts does, so that the test
 * also holds the tree (tree.idle() tells when the cleaner's idle commits
 * are done; tree.committed and the log show what it did).
 */
export function openStore(dir: string, opts: OpenOptions & { io?: FileIO }): Opened {
  const o = resolveOptions(opts);
  const lbs = BlockStore.open(dir, {
    ...(o.blockSize !== undefined && { blockSize: o.blockSize }),
    ...(o.segmentSize !== undefined && { segmentSize: o.segmentSize }),
    ...(o.io !== undefined && { io: o.io }),
    sync: o.sync,
  });
  try {
    expect(lbs.blockSize).toBeGreaterThanOrEqual(MIN_TREE_BLOCK_SIZE);
    const tree = new Tree(lbs, { cacheSize: o.cacheSize, strict: o.strict });
    return { db: new StoreClass(lbs, tree, o.cleaning, o.spaceTarget), tree };
  } catch (err) {
    lbs.closeSync();
    throw err;
  }
}

/**
 * The cleaner's clock, faked: its setInterval and performance.now (and
 * nothing else: setImmediate, setTimeout and the file system stay real).
 * Install it before opening a store; then tick() runs one tick of the
 * cleaner exactly there, one second after the last one: the debt grows by
 * the garbage, and if the store is idle and a rule wants it, the cleaner
 * commits on its own.
 */
export const cleanerClock = {
  install(): void {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
  },
  uninstall(): void {
    vi.useRealTimers();
  },
  /** One second passes. With `tree`, resolves once the tree is idle again (idle commits done). */
  async tick(tree?: Tree): Promise<void> {
    vi.advanceTimersByTime(1000);
    if (tree !== undefined) await tree.idle();
  },
};

/** Whether `err` is (or was caused by) a fault FaultFS injected, or a call after its crash. */
export function injected(err: unknown): boolean {
  for (let c = err; c instanceof Error; c = c.cause) {
    if (/injected fault|after crash\(\)/.test(c.message)) return true;
  }
  return false;
}

export function put(key: Buffer | string, value: Buffer | string): WReq {
  return { kind: 'put', ops: [{ kind: 'put', key: Buffer.from(key), value: Buffer.from(value) }] };
}

export function del(key: Buffer | string): WReq {
  return { kind: 'del', ops: [{ kind: 'del', key: Buffer.from(key) }] };
}

export function batch(ops: WReq[]): WReq {
  return { kind: 'batch', ops: ops.flatMap((r) => r.ops) };
}

/** A value of varied length that names where it came from. */
export function valueFor(rng: Rng, tag: string): Buffer {
  const len = rng.bool(0.8) ? rng.int(50) : rng.int(256);
  const b = Buffer.alloc(len);
  Buffer.from(tag).copy(b);
  if (len > tag.length) rng.bytes(len - tag.length).copy(b, tag.length);
  return b;
}

/** A random request over keys keyOf(0 ... keys-1): put, delete, or batch of up to `maxBatch`. */
export function randomReq(rng: Rng, keys: number, tag: string, maxBatch = 12): WReq {
  const one = (j: number): WReq =>
    rng.bool(0.25) ? del(keyOf(rng.int(keys))) : put(keyOf(rng.int(keys)), valueFor(rng, `${tag}.${j}`));
  if (rng.bool(0.3)) {
    const n = rng.range(1, maxBatch);
    return batch(Array.from({ length: n }, (_, j) => one(j)));
  }
  return one(0);
}

/** A workload; `tree` is there when the trial opened the store from its parts (TrialSpec.clock). */
export type Workload = (db: Store, rec: Recorder, tree?: Tree) => Promise<void>;

/** The state of the store in `dir` (opened with the real file system), and its check. */
export async function snapshotOf(dir: string, opts: OpenOptions = CRASH_OPTS): Promise<State> {
  const db = open(dir, { ...opts, cleaning: 0, sync: false });
  try {
    const c = db.check();
    expect(c.problems).toEqual([]);
    return readState(db);
  } finally {
    await db.close();
  }
}

/** Build a store in `dir` by running `reqs` (awaiting in groups), with the real file system. */
export async function buildStore(dir: string, reqs: WReq[], opts: OpenOptions = CRASH_OPTS, group = 32): Promise<State> {
  const db = open(dir, { ...opts, sync: false });
  const state: State = new Map();
  for (let i = 0; i < reqs.length; i += group) {
    const g = reqs.slice(i, i + group);
    await Promise.all(g.map((r) => issue(db, r)));
    for (const r of g) applyReq(state, r);
  }
  await db.close();
  return state;
}

export interface Verified {
  state: State;
  /** Requests of the recorder the store shows (>= rec.mustHave). */
  prefix: number;
}

/** Every key the recorders' requests touched. */
export function touchedKeys(...recs: Recorder[]): Buffer[] {
  const m = new Map<string, Buffer>();
  for (const rec of recs) for (const r of rec.reqs) for (const op of r.ops) m.set(op.key.toString('hex'), op.key);
  return [...m.values()];
}

/**
 * Reopen `dir` with the real file system (sync off: only what is on disk
 * now matters), require check() to pass, read it whole, require get() on
 * `keys` and a reverse range to agree, and a second reopen to show the same.
 */
export async function inspectStore(dir: string, what: string, keys: Buffer[], opts: OpenOptions = CRASH_OPTS): Promise<State> {
  let db: Store;
  try {
    db = open(dir, { ...opts, cleaning: 0, sync: false });
  } catch (err) {
    throw new Error(`${what}: the store does not open: ${String(err)}`, { cause: err });
  }
  let state: State;
  try {
    const c = db.check();
    expect(c.problems, `${what}: check()`).toEqual([]);
    expect(c.ok, `${what}: check()`).toBe(true);
    state = readState(db);
    expect(c.keys, `${what}: check() key count`).toBe(state.size);
    for (const key of keys) {
      const hex = key.toString('hex');
      expect(db.get(key)?.toString('hex'), `${what}: get(${hex})`).toBe(state.get(hex));
    }
    const back = [...db.range({ reverse: true })].map(([k]) => k.toString('hex'));
    expect(back.reverse(), `${what}: reverse range`).toEqual([...state.keys()]);
  } finally {
    await db.close();
  }
  const again = open(dir, { ...opts, cleaning: 0, sync: false });
  try {
    expect(statesEqual(readState(again), state), `${what}: a second reopen shows the same state`).toBe(true);
  } finally {
    await again.close();
  }
  return state;
}

function explain(start: State, rec: Recorder, state: State, what: string): never {
  const l = analyzeLosses(start, rec.reqs, (i) => rec.acked[i] === true, state);
  return expect.fail(
    `${what}: the state is no prefix of the ${rec.reqs.length} requests holding all ${rec.ackedCount} acknowledged ` +
      `(${rec.mustHave} needed): ${l.losses} lost, ${l.phantoms} phantom: ${l.details.join('; ')}`,
  );
}

/**
 * Reopen `dir` with the real file system and verify it against `start` plus
 * a prefix of `rec`'s requests (see the top of this file).
 */
export async function verifyStore(dir: string, start: State, rec: Recorder, what: string, opts: OpenOptions = CRASH_OPTS): Promise<Verified> {
  const state = await inspectStore(dir, what, touchedKeys(rec), opts);
  const p = findPrefix(start, rec.reqs, rec.mustHave, rec.reqs.length, state);
  if (p < 0) explain(start, rec, state, what);
  return { state, prefix: p };
}

/**
 * Two runs, one after the other (the second opened what the first left):
 * the state must be `start`, plus a prefix P1 of rec1 with all its
 * acknowledged requests, plus a prefix of rec2 with all of its.
 */
export async function verifyChain(dir: string, start: State, rec1: Recorder, rec2: Recorder, what: string): Promise<State> {
  const state = await inspectStore(dir, what, touchedKeys(rec1, rec2));
  const model: State = new Map(start);
  for (let i = 0; i < rec1.reqs.length; i++) {
    if (i >= rec1.mustHave && findPrefix(model, rec2.reqs, rec2.mustHave, rec2.reqs.length, state) >= 0) return state;
    applyReq(model, rec1.reqs[i]!);
  }
  if (findPrefix(model, rec2.reqs, rec2.mustHave, rec2.reqs.length, state) >= 0) return state;
  if (rec2.ackedCount === 0) explain(start, rec1, state, what);
  return expect.fail(`${what}: the state is no prefix of the first run followed by a prefix of the second holding all acknowledged`);
}

export interface TrialSpec {
  /** A store directory to start from (copied; taken as durable), or none: the trial creates the store. */
  template?: string;
  workload: Workload;
  opts?: OpenOptions;
  /** Open with openStore() under the faked cleaner clock (the workload gets the tree and ticks it). */
  clock?: boolean;
}

export interface TrialRun {
  root: string;
  dir: string;
  io: FaultFS;
  rec: Recorder;
  /** What opening threw, if it did. */
  openError?: unknown;
}

/**
 * Run the workload on a FaultFS over a fresh copy of the template, with
 * `arm` setting up faults first; the store is closed afterwards (a process
 * that dies closes its files: the simulated page cache stays). The caller
 * removes `root`.
 */
export async function runTrial(spec: TrialSpec, arm: (io: FaultFS) => void = () => undefined): Promise<TrialRun> {
  const root = tmpDir();
  const dir = path.join(root, 'store');
  if (spec.template !== undefined) fs.cpSync(spec.template, dir, { recursive: true });
  const io = new FaultFS(root);
  const rec = new Recorder();
  arm(io);
  const run: TrialRun = { root, dir, io, rec };
  let db: Store | undefined;
  let tree: Tree | undefined;
  const opts = { ...(spec.opts ?? CRASH_OPTS), io: io as FileIO };
  if (spec.clock === true) cleanerClock.install();
  try {
    try {
      if (spec.clock === true) ({ db, tree } = openStore(dir, opts));
      else db = open(dir, opts as OpenOptions);
    } catch (err) {
      run.openError = err;
    }
    if (db !== undefined) {
      try {
        await spec.workload(db, rec, tree);
      } finally {
        await rec.settle();
        await db.close();
      }
    }
  } finally {
    if (spec.clock === true) cleanerClock.uninstall();
  }
  return run;
}

/** Ops of a fault-free run of the workload (and the trace of their kinds). */
export async function probe(spec: TrialSpec): Promise<{ ops: number; trace: string[]; rec: Recorder }> {
  const run = await runTrial(spec);
  try {
    expect(run.openError).toBeUndefined();
    expect(run.rec.failed, `the fault-free run failed: ${String(run.rec.firstError)}`).toBe(false);
    return { ops: run.io.ops, trace: [...run.io.trace], rec: run.rec };
  } finally {
    rmDir(run.root);
  }
}

/**
 * A fresh temporary directory, in /dev/shm when there is one: these tests
 * model durability themselves (FaultFS), so a RAM file system loses nothing
 * and spares the real disk's metadata journalling (half the run time).
 */
export function tmpDir(prefix = 'birch-storecrash-'): string {
  let base = os.tmpdir();
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    base = '/dev/shm';
  } catch {
    // no tmpfs: the ordinary temp directory
  }
  return fs.mkdtempSync(path.join(base, prefix));
}

export { FaultFS, Rng, rmDir };
