/**
 * Store.backup(dest) and `birch backup`: a complete store of exactly one
 * commit (every write acknowledged before the call, never half a batch),
 * made while writers, readers and the cleaner run; live pages only; the
 * cleaner frees none of the pages it still needs; a bad destination, a
 * close during the copy, and a backup that never finished are all clean.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, type Store } from '../../src/index.js';
import { register as registerBackup } from '../../src/cli/backup.js';
import { readState } from '../../src/cli/model.js';
import { BlockStore } from '../../src/lbs/index.js';
import { runIn } from '../helpers/cli.js';
import { Rng } from '../helpers/rng.js';
import { expectCheck, expectRejectCode, freshPath, openStore, tmp } from './util.js';

const OPTS = { blockSize: 2048, segmentSize: 16 * 2048, cleaning: 0 } as const;

/** `n` random binary pairs (0 to 255 bytes each, empty ones included) in batches. */
async function fill(db: Store, rng: Rng, n: number): Promise<void> {
  for (let i = 0; i < n; i += 200) {
    await db.batch(
      Array.from({ length: Math.min(200, n - i) }, (_, j) => ({
        type: 'put' as const,
        key: (i + j) % 997 === 0 ? Buffer.alloc(0) : rng.bytes(rng.int(4) === 0 ? rng.int(256) : 8 + rng.int(24)),
        value: rng.bytes(rng.int(5) === 0 ? 0 : rng.int(256)),
      })),
    );
  }
}

function openBackup(dir: string): Store {
  return open(dir, { cleaning: 0 });
}

describe('Store.backup', () => {
  it('copies the last commit, live pages only, into a store that opens and checks out', async () => {
    const db = openStore(freshPath(), OPTS);
    const rng = new Rng(1);
    await fill(db, rng, 3000);
    for (let i = 0; i < 5; i++) await fill(db, rng, 300); // overwrites: garbage on disk
    const want = readState(db);
    const dest = path.join(tmp(), 'backup');
    const r = await db.backup(dest);
    const s = db.stats();
    expect(r).toMatchObject({ dir: dest, keys: want.size, pages: s.pagesLive, bytes: s.pagesLive * 2048 });
    const b = openBackup(dest);
    try {
      expectCheck(b);
      expect(readState(b)).toEqual(want);
      const bs = b.stats();
      expect(bs.blockSize).toBe(2048);
      expect(bs.pagesOnDisk, 'live pages only').toBe(bs.pagesLive);
      expect(bs.pagesLive).toBe(s.pagesLive);
      // It is an ordinary store: it takes writes, and they last.
      await b.put('after', 'backup');
    } finally {
      await b.close();
    }
    const again = openBackup(dest);
    expect(again.get('after')?.toString()).toBe('backup');
    await again.close();
  });

  it('an empty store backs up to an empty store', async () => {
    const db = openStore(freshPath(), OPTS);
    const dest = path.join(tmp(), 'b');
    const progress: number[] = [];
    const r = await db.backup(dest, { onProgress: (p) => progress.push(p.total) });
    expect(r).toMatchObject({ keys: 0, pages: 0 });
    expect(progress).toEqual([0]);
    const b = openBackup(dest);
    expect(b.stats().keys).toBe(0);
    expectCheck(b);
    await b.close();
  });

  it('is exactly the commit at the call, while writers run: every acknowledged write, no half batch', async () => {
    const db = openStore(freshPath(), { ...OPTS, sync: true, cleaning: 1 });
    const rng = new Rng(2);
    await fill(db, rng, 8000); // about 900 pages: two chunks of the copy (512 pages each)
    // Batches that set all keys of a group to one version: a half batch shows as mixed versions.
    const groups = 40;
    const keysOf = (g: number): string[] => Array.from({ length: 25 }, (_, i) => `g${String(g).padStart(3, '0')}-${i}`);
    const writeGroup = (g: number, v: number): Promise<void> =>
      db.batch(keysOf(g).map((k) => ({ type: 'put' as const, key: k, value: `v${v}` })));
    for (let g = 0; g < groups; g++) await writeGroup(g, 0);
    let stop = false;
    let version = 0;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      while (!stop) {
        version++;
        await writeGroup((version * 7 + w) % groups, version);
      }
    });
    await new Promise((r) => setTimeout(r, 30));
    // What the backup must show: the committed state at the call (a snapshot taken in the same turn).
    const snap = db.snapshot();
    const dest = path.join(tmp(), 'b');
    const progress: number[] = [];
    const r = await db.backup(dest, { onProgress: (p) => progress.push(p.pages) });
    const want = new Map<string, string>();
    for (const [k, v] of snap.range()) want.set(k.toString('hex'), v.toString('hex'));
    snap.release();
    const during = version;
    stop = true;
    await Promise.all(writers);
    expect(progress.length, 'several chunks, each reported').toBeGreaterThan(1);
    expect(during, 'writers went on during the backup').toBeGreaterThan(0);
    const b = openBackup(dest);
    try {
      expectCheck(b);
      const got = readState(b);
      expect(got).toEqual(want);
      for (let g = 0; g < groups; g++) {
        const vs = new Set(keysOf(g).map((k) => b.get(k)?.toString()));
        expect(vs.size, `group ${g} is one batch's version`).toBe(1);
      }
      expect(b.stats().keys).toBe(r.keys);
    } finally {
      await b.close();
    }
  });

  it('the cleaner frees none of the pages it still needs (reclaim() while it copies)', async () => {
    const db = openStore(freshPath(), { ...OPTS, cleaning: 5, spaceTarget: 1.1 });
    const rng = new Rng(3);
    await fill(db, rng, 12000);
    const want = readState(db);
    const dest = path.join(tmp(), 'b');
    let reclaims = 0;
    const work: Promise<void>[] = [];
    const r = await db.backup(dest, {
      onProgress: () => {
        // Between chunks: overwrite everything and clean as hard as possible.
        if (++reclaims <= 2) work.push(fill(db, rng, 2000).then(() => db.reclaim()));
      },
    });
    await Promise.all(work);
    expect(reclaims).toBeGreaterThan(2);
    expect(db.stats().segmentsFreed, 'the cleaner did free segments meanwhile').toBeGreaterThan(0);
    const b = openBackup(dest);
    try {
      expectCheck(b);
      expect(readState(b)).toEqual(want);
      expect(b.stats().keys).toBe(r.keys);
    } finally {
      await b.close();
    }
  });

  it('refuses a destination that is not empty, is a file, or lies in the store (or holds it)', async () => {
    const src = freshPath();
    const db = openStore(src, OPTS);
    await db.put('k', 'v');
    const full = tmp();
    fs.writeFileSync(path.join(full, 'x'), 'x');
    const file = path.join(tmp(), 'f');
    fs.writeFileSync(file, 'x');
    for (const dest of [full, file, src, path.join(src, 'inner'), path.dirname(src)]) {
      await expectRejectCode(() => db.backup(dest), 'BIRCH_BAD_ARGUMENT');
    }
    await expectRejectCode(() => db.backup(''), 'BIRCH_BAD_ARGUMENT');
    expect(fs.readdirSync(full)).toEqual(['x']);
    // An empty existing directory is fine.
    const empty = tmp();
    await db.backup(empty);
    const b = openBackup(empty);
    expect(b.get('k')?.toString()).toBe('v');
    await b.close();
  });

  it('close() during a backup stops it (BIRCH_CLOSED) and leaves no store behind', async () => {
    const db = open(freshPath(), OPTS);
    await fill(db, new Rng(4), 8000);
    const parent = tmp();
    const dest = path.join(parent, 'b');
    let closing: Promise<void> | undefined;
    const run = db.backup(dest, {
      onProgress: () => {
        closing ??= db.close();
      },
    });
    await expectRejectCode(() => run, 'BIRCH_CLOSED');
    await closing;
    expect(fs.existsSync(dest)).toBe(false);
    await expectRejectCode(() => db.backup(path.join(parent, 'c')), 'BIRCH_CLOSED');
  });

  it('a backup that never finished is not a store (no meta file in place)', async () => {
    const dir = path.join(tmp(), 'half');
    const s = BlockStore.open(dir, { blockSize: 2048, unpublished: true });
    await s.append([Buffer.from('a page')]);
    await s.close();
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: 'BIRCH_NOT_A_STORE' }));
  });
});

describe('birch backup', () => {
  it('backs up a closed store, and refuses a locked one with the hint to call db.backup()', async () => {
    const src = freshPath();
    const db = open(src, OPTS);
    await fill(db, new Rng(5), 2000);
    const want = readState(db);
    const dest = path.join(tmp(), 'b');
    const locked = await runIn([registerBackup], ['backup', src, dest]);
    expect(locked.code).toBe(2);
    expect(locked.err).toMatch(/BIRCH_LOCKED/);
    expect(locked.err).toMatch(/db\.backup\(dest\)/);
    expect(fs.existsSync(dest)).toBe(false);
    await db.close();
    const ok = await runIn([registerBackup], ['backup', src, dest]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(`: ${want.size.toLocaleString('en-US')} keys`);
    const b = openBackup(dest);
    expect(readState(b)).toEqual(want);
    expectCheck(b);
    await b.close();
    const again = await runIn([registerBackup], ['backup', src, dest]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/not empty/);
    const none = await runIn([registerBackup], ['backup', path.join(tmp(), 'nothing'), path.join(tmp(), 'x')]);
    expect(none.code).toBe(2);
  });
});
