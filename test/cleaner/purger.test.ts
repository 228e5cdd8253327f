/**
 * The background purge (src/cleaner/purger.ts): expired entries and the keys
 * of dropped tables become real deletes.
 *
 * Most tests drive a tree on a block store with an injected clock, so that
 * what is due is exact: every test keeps a model of each key (its value and
 * deadline) and, once the purge has run dry, compares the tree with it key
 * by key and by count (`committed.keys` counts every entry, expired ones
 * until purged; `committed.internal` the expiry-index entries and markers).
 * The last tests go through the public API with real time.
 */
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { KS_DROPPED, KS_EXPIRY, KS_TABLES, Tree, makeEntry, sortKey, type Op } from '../../src/btree/index.js';
import { indexKey, readDeadlineBE } from '../../src/btree/mutate.js';
import { Purger, type PurgerOptions } from '../../src/cleaner/index.js';
import { tableRange } from '../../src/cleaner/purger.js';
import { open } from '../../src/index.js';
import { FaultFS } from '../helpers/faultfs.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-purge-');

/** A clock reading in ms since the epoch, as deadlines are. */
const T0 = 1_700_000_000_000;

interface Rig {
  lbs: BlockStore;
  tree: Tree;
  purger: Purger;
  clock: { now: number };
}

function rig(dir: string, opts: PurgerOptions = {}, clock = { now: T0 }, io?: FaultFS): Rig {
  const lbs = BlockStore.open(dir, { blockSize: 4096, segmentSize: 64 * 4096, sync: io !== undefined, ...(io && { io }) });
  const tree = new Tree(lbs, { cacheSize: 1 << 22, now: () => clock.now });
  const purger = new Purger(tree, opts);
  return { lbs, tree, purger, clock };
}

const rigs: Rig[] = [];
afterEach(async () => {
  // A failed test must not leave a clock running.
  for (const r of rigs.splice(0)) await r.purger.stop();
});
function track(r: Rig): Rig {
  rigs.push(r);
  return r;
}

async function shut(r: Rig): Promise<void> {
  await r.purger.stop();
  await r.tree.idle();
  await r.lbs.close();
}

function submit(tree: Tree, ops: Op[]): Promise<void> {
  return new Promise((resolve, reject) => tree.submit({ op: ops, resolve: () => resolve(), reject }));
}

/** Submit `ops` in batches of `size` operations. */
async function submitAll(tree: Tree, ops: Op[], size = 500): Promise<void> {
  for (let i = 0; i < ops.length; i += size) await submit(tree, ops.slice(i, i + size));
}

const key = (i: number): Buffer => Buffer.from(`key-${String(i).padStart(6, '0')}`);
const val = (i: number, gen = 0): Buffer => Buffer.from(`value-${i}-${gen}`);

/** What a sort key must hold: its value and deadline (0: none). */
type Model = Map<string, { value: Buffer; deadline: number }>;

function put(model: Model, sk: Buffer, value: Buffer, deadline = 0): Op {
  model.set(sk.toString('latin1'), { value, deadline });
  return { kind: 'put', entry: makeEntry(sk.subarray(1), value, sk[0], deadline) };
}

function del(model: Model, sk: Buffer): Op {
  model.delete(sk.toString('latin1'));
  return { kind: 'del', key: sk };
}

/** Set a deadline as the 'expire' operation does (a present key; a past deadline deletes it). */
function expire(model: Model, sk: Buffer, deadline: number, now: number): Op {
  const m = model.get(sk.toString('latin1'))!;
  if (deadline <= now) model.delete(sk.toString('latin1'));
  else m.deadline = deadline;
  return { kind: 'expire', key: sk, deadline };
}

function persist(model: Model, sk: Buffer): Op {
  model.get(sk.toString('latin1'))!.deadline = 0;
  return { kind: 'persist', key: sk };
}

const live = (m: { deadline: number }, now: number): boolean => m.deadline === 0 || m.deadline > now;

/** Entries of the model due at `now` (expired, so the purge owes their deletion). */
function dueIn(model: Model, now: number): number {
  let n = 0;
  for (const m of model.values()) if (!live(m, now)) n++;
  return n;
}

/** Commit until nothing is due; resolves with the number of commits. */
async function drain(r: Rig, most = 1000): Promise<number> {
  let n = 0;
  while (r.purger.wantsToPurge()) {
    expect(n++, 'the purge ran dry').toBeLessThan(most);
    await r.tree.flush();
  }
  return n;
}

/**
 * Once the purge has run dry: every live key of the model reads back, no
 * other entry is left (expired ones included), and the counts are exact.
 */
function expectPurged(r: Rig, model: Model, extraInternal = 0, what = 'the tree'): void {
  const now = r.clock.now;
  const wrong: string[] = [];
  let present = 0;
  let expiring = 0;
  for (const [k, m] of model) {
    const sk = Buffer.from(k, 'latin1');
    const got = r.tree.get(sk);
    if (live(m, now)) {
      present++;
      if (m.deadline > 0) expiring++;
      const deadline = r.tree.deadlineIn(r.tree.committed, sk);
      if ((got === undefined || !got.equals(m.value) || deadline !== m.deadline) && wrong.length < 5) {
        wrong.push(`${k}: ${String(got)} (deadline ${deadline}) instead of ${m.value.toString()} (deadline ${m.deadline})`);
      }
    } else if (got !== undefined && wrong.length < 5) wrong.push(`${k}: expired, yet reads ${got.toString()}`);
  }
  expect(wrong, `${what}: values`).toEqual([]);
  expect(r.tree.committed.internal, `${what}: internal entries (index entries, markers)`).toBe(expiring + extraInternal);
  expect(r.tree.committed.keys, `${what}: entries`).toBe(present + expiring + extraInternal);
  expect(r.tree.check().problems).toEqual([]);
}

describe('purge of expired entries', () => {
  it('deletes what expired in ordinary commits, a slice at a time, and keeps keys whose lifetime was extended, removed or replaced', async () => {
    const r = track(rig(tmp(), { idleSlices: 1 }));
    const model: Model = new Map();
    const N = 3000;
    const ops: Op[] = [];
    for (let i = 0; i < N; i++) {
      const sk = sortKey(key(i));
      if (i % 3 === 0) ops.push(put(model, sk, val(i)));
      else if (i % 3 === 1) ops.push(put(model, sk, val(i), T0 + 1000 + (i % 97)));
      else ops.push(put(model, sk, val(i), T0 + 100_000));
    }
    await submitAll(r.tree, ops);
    expect(r.tree.committed.internal).toBe((2 * N) / 3);

    // Before anything expires, the lifetimes change.
    r.clock.now = T0 + 500;
    const changes: Op[] = [];
    for (let i = 0; i < N; i++) {
      const sk = sortKey(key(i));
      const now = r.clock.now;
      if (i % 3 === 1 && i % 10 === 0) changes.push(expire(model, sk, T0 + 50_000, now)); // extended
      else if (i % 3 === 1 && i % 10 === 1) changes.push(persist(model, sk)); // lifetime removed
      else if (i % 3 === 1 && i % 10 === 2) changes.push(put(model, sk, val(i, 1))); // put without ttl clears it
      else if (i % 3 === 1 && i % 10 === 3) changes.push(put(model, sk, val(i, 1), T0 + 1500)); // another deadline, still soon
      else if (i % 3 === 2 && i % 10 === 4) changes.push(del(model, sk));
      else if (i % 3 === 0 && i % 10 === 5) changes.push(expire(model, sk, T0 + 1800, now)); // a lifetime given
    }
    await submitAll(r.tree, changes);
    expect(r.purger.keysPurged).toBe(0); // nothing was due yet
    expect(r.purger.wantsToPurge()).toBe(false);

    r.clock.now = T0 + 3000;
    const due = dueIn(model, r.clock.now);
    expect(due).toBeGreaterThan(600);
    expect(r.purger.wantsToPurge()).toBe(true);
    // One empty commit purges one slice (idleSlices: 1): each purge deletes the entry and its index entry.
    const keys = r.tree.committed.keys;
    await r.tree.flush();
    expect(r.purger.keysPurged).toBe(256);
    expect(r.tree.committed.keys).toBe(keys - 2 * 256);
    const commits = await drain(r);
    expect(commits).toBe(Math.ceil(due / 256) - 1);
    expect(r.purger.keysPurged).toBe(due);
    expectPurged(r, model, 0, 'at T0 + 3 s');

    // The extended lifetimes end, then the long ones.
    r.clock.now = T0 + 60_000;
    await drain(r);
    expectPurged(r, model, 0, 'at T0 + 60 s');
    r.clock.now = T0 + 200_000;
    await drain(r);
    expectPurged(r, model, 0, 'at T0 + 200 s');
    expect(r.tree.committed.internal).toBe(0);
    expect(r.purger.keysPurged).toBe([...model.values()].filter((m) => m.deadline > 0).length);
    expect(r.tree.committed.keys).toBe([...model.values()].filter((m) => m.deadline === 0).length);
    await shut(r);
  });

  it('bounds the purge of one batch by max(slice, its operations), and purges in user batches without idle commits', async () => {
    const r = track(rig(tmp(), { slice: 100 }));
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 2000; i++) ops.push(put(model, sortKey(key(i)), val(i), T0 + 10 + i));
    await submitAll(r.tree, ops);
    r.clock.now = T0 + 5000;
    // A batch of one operation: the slice.
    await submit(r.tree, [put(model, sortKey(Buffer.from('plain-0')), val(0))]);
    expect(r.purger.keysPurged).toBe(100);
    // A batch of 600: as many purges as operations, so that the purge keeps pace with expiring writes.
    const big: Op[] = [];
    for (let i = 1; i <= 600; i++) big.push(put(model, sortKey(Buffer.from(`plain-${i}`)), val(i)));
    await submit(r.tree, big);
    expect(r.purger.keysPurged).toBe(700);
    // Single writes, each its own batch: a slice each, and the earliest deadlines first.
    for (let i = 0; i < 5; i++) await submit(r.tree, [put(model, sortKey(Buffer.from(`single-${i}`)), val(i))]);
    expect(r.purger.keysPurged).toBe(1200);
    // Earliest deadline first: what is left of the index starts after the 1,200 purged.
    const [first] = r.tree.range(r.tree.committed, { key: Buffer.from([KS_EXPIRY]), inclusive: true }, undefined, false, 1, (k) => Buffer.from(k), () => undefined);
    expect(readDeadlineBE(first!, 1)).toBe(T0 + 10 + 1200);
    expect(r.tree.committed.internal).toBe(800);
    await drain(r);
    expect(r.purger.keysPurged).toBe(2000);
    expectPurged(r, model);
    await shut(r);
  });

  it('yields the event loop between slices of a large purge inside one batch', async () => {
    // Hooks on either side of the purge's count the turns of the event loop it let run.
    const lbs = BlockStore.open(tmp(), { blockSize: 4096, segmentSize: 64 * 4096, sync: false });
    const clock = { now: T0 };
    const tree = new Tree(lbs, { cacheSize: 1 << 22, now: () => clock.now });
    let turns = 0;
    let during = -1;
    tree.addHooks({ beforeCommit: () => void (during = turns) });
    const r = track({ lbs, tree, purger: new Purger(tree, { slice: 50 }), clock });
    tree.addHooks({ beforeCommit: () => void (during = turns - during) });
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 1000; i++) ops.push(put(model, sortKey(key(i)), val(i), T0 + 1));
    await submitAll(r.tree, ops);
    clock.now = T0 + 10;
    const big: Op[] = [];
    for (let i = 0; i < 1000; i++) big.push(put(model, sortKey(Buffer.from(`plain-${i}`)), val(i)));
    let done = false;
    const spin = (): void => {
      turns++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    await submit(r.tree, big);
    done = true;
    expect(r.purger.keysPurged).toBe(1000);
    expect(during).toBeGreaterThanOrEqual(1000 / 50 - 1);
    expectPurged(r, model);
    await shut(r);
  });

  it('drops stale index entries without touching the keys they name, and purges keys too long for the index key', async () => {
    const r = track(rig(tmp()));
    const model: Model = new Map();
    const a = sortKey(Buffer.from('a'));
    const long = sortKey(Buffer.alloc(255, 0x61)); // 256-byte sort key: 9 of it go in the index entry's value
    const long2 = sortKey(Buffer.concat([Buffer.alloc(254, 0x61), Buffer.from('b')]));
    await submit(r.tree, [put(model, a, val(1), T0 + 10_000), put(model, long, val(2), T0 + 100), put(model, long2, val(3), T0 + 100_000)]);
    // Index entries for deadlines the keys do not have, and for a key that does not exist.
    const stale = (deadline: number, sk: Buffer): Op => {
      const { key: k, rest } = indexKey(deadline, sk, 0, sk.length);
      return { kind: 'put', entry: makeEntry(k, rest, KS_EXPIRY) };
    };
    await submit(r.tree, [stale(T0 + 50, a), stale(T0 + 60, sortKey(Buffer.from('gone'))), stale(T0 + 70, long2)]);
    expect(r.tree.committed.internal).toBe(6);
    r.clock.now = T0 + 1000;
    await drain(r);
    expect(r.purger.keysPurged).toBe(1); // `long`; the stale ones only went
    expectPurged(r, model);
    expect(r.tree.committed.internal).toBe(2);
    await shut(r);
  });

  it('costs a store without deadlines or tables no read of the index', async () => {
    const r = track(rig(tmp()));
    const spy = vi.spyOn(r.tree, 'range');
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 3000; i++) ops.push(put(model, sortKey(key(i)), val(i)));
    await submitAll(r.tree, ops, 100);
    for (let i = 0; i < 50; i++) await r.tree.flush();
    r.purger.start();
    r.purger.tick();
    expect(r.purger.wantsToPurge()).toBe(false);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expectPurged(r, model);
    await shut(r);
  });

  it('purges on its own clock while the store is idle', async () => {
    const r = track(rig(tmp(), { intervalMs: 10 }));
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 6000; i++) ops.push(put(model, sortKey(key(i)), val(i), i % 2 === 0 ? T0 + 100 + i : 0));
    await submitAll(r.tree, ops);
    r.purger.start();
    await new Promise((res) => setTimeout(res, 50));
    expect(r.purger.keysPurged).toBe(0); // nothing due yet
    const commits = r.tree.stats().commits;
    r.clock.now = T0 + 10_000; // no write from here on
    for (let i = 0; i < 500 && r.tree.committed.keys > 3000; i++) await new Promise((res) => setTimeout(res, 10));
    await r.tree.idle();
    expect(r.purger.keysPurged).toBe(3000);
    // An idle commit takes up to 8 slices (2,048), a user's batch one.
    expect(r.tree.stats().commits - commits).toBeGreaterThanOrEqual(Math.ceil(3000 / 2048));
    expectPurged(r, model);
    await shut(r);
  });

  it('stop() waits for the idle commit in progress and starts no other', async () => {
    const r = track(rig(tmp()));
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 5000; i++) ops.push(put(model, sortKey(key(i)), val(i), T0 + 100));
    await submitAll(r.tree, ops);
    await r.tree.idle(); // a tick commits only while nothing runs
    r.clock.now = T0 + 1000;
    r.purger.tick(); // starts an idle run: a commit of 8 slices is under way
    expect(r.tree.busy).toBe(true);
    await r.purger.stop();
    expect(r.purger.keysPurged).toBe(2048);
    await r.tree.idle();
    r.purger.tick();
    await new Promise((res) => setTimeout(res, 20));
    expect(r.tree.busy).toBe(false);
    expect(r.purger.keysPurged).toBe(2048);
    // The rest is still owed, and any batch pays it.
    expect(r.purger.wantsToPurge()).toBe(true);
    await drain(r);
    expectPurged(r, model);
    await shut(r);
  });

  it('stops its clock quietly when the store fails, and when it is closed', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    const dir = path.join(root, 'db');
    const r = track(rig(dir, { intervalMs: 5 }, { now: T0 }, io));
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 500; i++) ops.push(put(model, sortKey(key(i)), val(i), T0 + 100));
    await submitAll(r.tree, ops);
    r.purger.start();
    io.failAt({ n: 1, kind: 'fdatasync', code: 'EIO', sticky: true });
    r.clock.now = T0 + 1000;
    for (let i = 0; i < 200 && r.lbs.failed === undefined; i++) await new Promise((res) => setTimeout(res, 5));
    expect(r.lbs.failed?.code).toBe('BIRCH_IO');
    await new Promise((res) => setTimeout(res, 30)); // ticks after the failure: none throws
    expect(() => r.purger.tick()).not.toThrow();
    await r.purger.stop();
    io.clearFaults();
    await r.lbs.close().catch(() => undefined);

    // A store closed under a running clock (the purge not stopped first).
    const r2 = track(rig(tmp(), { intervalMs: 5 }));
    await submit(r2.tree, [put(new Map(), sortKey(key(1)), val(1), T0 + 100)]);
    r2.purger.start();
    await r2.tree.idle();
    await r2.lbs.close();
    r2.clock.now = T0 + 1000;
    await new Promise((res) => setTimeout(res, 30));
    expect(() => r2.purger.tick()).not.toThrow();
    expect(r2.purger.keysPurged).toBe(0);
    await r2.purger.stop();
  });
});

/** A table id as the catalog writes it: 7 bits a byte, low bits first, the high bit on all but the last. */
function varint(id: number): Buffer {
  const out: number[] = [];
  while (id >= 0x80) {
    out.push((id & 0x7f) | 0x80);
    id = Math.floor(id / 0x80);
  }
  out.push(id);
  return Buffer.from(out);
}

const tableKey = (id: number, k: Buffer): Buffer => sortKey(Buffer.concat([varint(id), k]), KS_TABLES);
const marker = (id: number): Buffer => sortKey(varint(id), KS_DROPPED);

describe('purge of dropped tables', () => {
  it('the range of a table is its keys only', () => {
    expect(varint(300)).toEqual(Buffer.from([0xac, 0x02]));
    const r = tableRange(marker(300))!;
    expect(r.lo.key).toEqual(Buffer.from([KS_TABLES, 0xac, 0x02]));
    expect(r.hi.key).toEqual(Buffer.from([KS_TABLES, 0xac, 0x03]));
    // 428 shares the first byte; 2 is the last byte of 300's varint alone.
    for (const id of [428, 2, 44, 299, 301, 300 * 128]) {
      const k = tableKey(id, Buffer.from('x'));
      expect(k.compare(r.lo.key) < 0 || k.compare(r.hi.key) >= 0, `table ${id}`).toBe(true);
    }
    expect(tableRange(sortKey(Buffer.alloc(0), KS_DROPPED))).toBeUndefined();
    expect(tableRange(sortKey(Buffer.from([0x80]), KS_DROPPED))).toBeUndefined();
    expect(tableRange(sortKey(Buffer.from([0x01, 0x02]), KS_DROPPED))).toBeUndefined();
  });

  it('deletes a dropped table in bounded chunks, expired keys included, then its marker; other tables untouched', async () => {
    const r = track(rig(tmp(), { slice: 100, idleSlices: 1 }));
    const model: Model = new Map();
    const ops: Op[] = [];
    // Table 300 is dropped; 428 shares its varint's first byte, 2 is its last byte, 0 is the store's own keyspace.
    for (let i = 0; i < 1000; i++) ops.push(put(model, tableKey(300, key(i)), val(i), i % 10 === 0 ? T0 + 50 : i % 10 === 1 ? T0 + 1_000_000 : 0));
    for (let i = 0; i < 300; i++) ops.push(put(model, tableKey(428, key(i)), val(i), i % 10 === 0 ? T0 + 1_000_000 : 0));
    for (let i = 0; i < 200; i++) ops.push(put(model, tableKey(2, key(i)), val(i)));
    for (let i = 0; i < 200; i++) ops.push(put(model, sortKey(key(i)), val(i)));
    await submitAll(r.tree, ops);
    // The drop: the marker (the api removes the catalog entry in the same batch).
    await submit(r.tree, [{ kind: 'put', entry: makeEntry(varint(300), Buffer.alloc(0), KS_DROPPED) }]);
    for (const k of [...model.keys()]) if (Buffer.from(k, 'latin1').subarray(0, 3).equals(Buffer.from([KS_TABLES, 0xac, 0x02]))) model.delete(k);
    r.clock.now = T0 + 100; // a tenth of table 300's keys have expired

    const seen: number[] = [];
    let before = r.purger.droppedKeysPurged;
    r.tree.addHooks({
      afterCommit: () => {
        seen.push(r.purger.droppedKeysPurged - before);
        before = r.purger.droppedKeysPurged;
      },
    });
    await drain(r);
    expect(Math.max(...seen)).toBeLessThanOrEqual(100);
    expect(r.purger.tablesDropped).toBe(1);
    // Every key of table 300 went: the expired ones by either road.
    expect(r.purger.droppedKeysPurged + r.purger.keysPurged).toBe(1000);
    expect(r.purger.droppedKeysPurged).toBeGreaterThanOrEqual(900);
    const all = [...r.tree.range(r.tree.committed, { key: Buffer.from([KS_TABLES, 0xac, 0x02]), inclusive: true }, { key: Buffer.from([KS_TABLES, 0xac, 0x03]), inclusive: false }, false, Infinity, (k) => k, () => undefined, () => 0)];
    expect(all).toEqual([]);
    expect(r.tree.get(marker(300))).toBeUndefined();
    expectPurged(r, model);
    // The clock set back: nothing of the dropped table comes back.
    r.clock.now = T0;
    expectPurged(r, model);
    await shut(r);
  });

  it('deletes an empty dropped table\'s marker, and a malformed marker without touching any table', async () => {
    const r = track(rig(tmp()));
    const model: Model = new Map();
    const ops: Op[] = [];
    for (let i = 0; i < 100; i++) ops.push(put(model, tableKey(1, key(i)), val(i)), put(model, tableKey(7, key(i)), val(i)));
    await submitAll(r.tree, ops);
    await submit(r.tree, [
      { kind: 'put', entry: makeEntry(varint(9), Buffer.alloc(0), KS_DROPPED) }, // no keys
      { kind: 'put', entry: makeEntry(Buffer.from([0x81]), Buffer.alloc(0), KS_DROPPED) }, // not a varint: would name every table from 1 up
    ]);
    expect(r.tree.committed.internal).toBe(2);
    const commits = await drain(r);
    expect(commits).toBe(1);
    expect(r.purger.tablesDropped).toBe(2);
    expect(r.purger.droppedKeysPurged).toBe(0);
    expectPurged(r, model);
    await shut(r);
  });
});

describe('purge across reopen', () => {
  it('resumes after a close in the middle: the work is in the committed tree, not in memory', async () => {
    const dir = tmp();
    const model: Model = new Map();
    const clock = { now: T0 };
    {
      const r = track(rig(dir, { idleSlices: 1 }, clock));
      const ops: Op[] = [];
      for (let i = 0; i < 5000; i++) ops.push(put(model, sortKey(key(i)), val(i), i % 5 === 0 ? 0 : T0 + 10 + (i % 1000)));
      for (let i = 0; i < 2000; i++) ops.push(put(model, tableKey(5, key(i)), val(i)));
      ops.push({ kind: 'put', entry: makeEntry(varint(5), Buffer.alloc(0), KS_DROPPED) });
      await submitAll(r.tree, ops);
      for (const k of [...model.keys()]) if (k.charCodeAt(0) === KS_TABLES) model.delete(k);
      clock.now = T0 + 5000;
      await r.tree.flush();
      await r.tree.flush();
      expect(r.purger.keysPurged).toBe(512);
      expect(r.purger.droppedKeysPurged).toBe(512);
      expect(r.purger.wantsToPurge()).toBe(true);
      await shut(r);
    }
    const r = track(rig(dir, {}, clock));
    expect(r.tree.committed.internal).toBe(4000 - 512 + 1);
    await drain(r);
    expect(r.purger.keysPurged).toBe(4000 - 512);
    expect(r.purger.droppedKeysPurged).toBe(2000 - 512);
    expect(r.purger.tablesDropped).toBe(1);
    expectPurged(r, model);
    expect(r.tree.committed.keys).toBe(1000);
    await shut(r);
  });
});

describe('purge through the public API, in real time', () => {
  it('an idle store drops expired keys from stats().keys within seconds, and reclaim() gives their pages back', async () => {
    const dir = tmp();
    const db = open(dir, { sync: false, segmentSize: 64 * 4096 });
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) ps.push(db.put(key(i), Buffer.alloc(100, i & 0xff), { ttl: 100 + (i % 201) }));
    for (let i = 0; i < 500; i++) ps.push(db.put(Buffer.from(`keep-${i}`), val(i)));
    await Promise.all(ps);
    const full = db.stats();
    expect(full.keys).toBeLessThanOrEqual(2500); // some may have expired and been purged already
    let s = db.stats();
    const deadline = Date.now() + 10_000;
    while (s.keys !== 500 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      s = db.stats();
    }
    expect(s.keys).toBe(500);
    expect(s.keysPurged).toBe(2000);
    expect(db.get(key(0))).toBeUndefined();
    expect(db.get('keep-7')?.equals(val(7))).toBe(true);
    expect([...db.keys()].length).toBe(500);
    expect(db.check().ok).toBe(true);
    await db.reclaim();
    const after = db.stats();
    expect(after.pagesLive).toBeLessThan(full.pagesLive);
    expect(after.pagesOnDisk).toBeLessThan(full.pagesOnDisk);
    await db.close();
    // And nothing comes back after a reopen.
    const again = open(dir, { sync: false, segmentSize: 64 * 4096 });
    expect(again.stats().keys).toBe(500);
    expect([...again.keys()].length).toBe(500);
    await again.close();
  });

  it('keys that expired before a close are purged after the reopen', async () => {
    const dir = tmp();
    const db = open(dir, { sync: false });
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) ps.push(db.put(key(i), val(i), { ttl: 50 }));
    await Promise.all(ps);
    await new Promise((res) => setTimeout(res, 100));
    // Every key has expired; the idle clock (1 s) may or may not have started on them.
    expect([...db.keys()].length).toBe(0);
    await db.close();
    const again = open(dir, { sync: false });
    expect([...again.keys()].length).toBe(0);
    const deadline = Date.now() + 10_000;
    while (again.stats().keys !== 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(again.stats().keys).toBe(0);
    expect(again.check().ok).toBe(true);
    await again.close();
  });
});
