/**
 * The life of a handle: close() finishes queued writes; a closed handle
 * refuses everything with BIRCH_CLOSED (async methods by rejecting); close is
 * idempotent; the directory lock; the block size of an existing store; and a
 * store many times larger than its cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, type Store } from '../../src/index.js';
// Only to make stores the public API cannot (see 'open' below).
import { BlockStore } from '../../src/lbs/index.js';
import { dirState, expectCheck, expectRejectCode, expectThrowCode, hex, openStore, tmp } from './util.js';

const k = (i: number): string => `key${String(i).padStart(6, '0')}`;

describe('close', () => {
  it('resolves only after every queued write has completed, and they are all on disk', async () => {
    const dir = tmp();
    const db = openStore(dir, { sync: true });
    const resolved: number[] = [];
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) ps.push(db.put(k(i), `v${i}`).then(() => void resolved.push(i)));
    const pb = db.batch([
      { type: 'put', key: 'batched', value: 'yes' },
      { type: 'del', key: k(0) },
    ]);
    let resolvedAtClose = -1;
    await db.close().then(() => {
      resolvedAtClose = resolved.length;
    });
    expect(resolvedAtClose).toBe(100);
    await Promise.all(ps);
    await pb;
    const db2 = openStore(dir);
    expect(db2.stats().keys).toBe(100);
    for (let i = 1; i < 100; i++) expect(db2.get(k(i))?.toString()).toBe(`v${i}`);
    expect(db2.get(k(0))).toBeUndefined();
    expect(db2.get('batched')?.toString()).toBe('yes');
    expectCheck(db2);
  });

  it('a closed handle refuses everything with BIRCH_CLOSED; async methods reject rather than throw', async () => {
    const dir = tmp();
    const db = openStore(dir);
    await db.put('a', '1');
    await db.close();
    const C = 'BIRCH_CLOSED';
    expectThrowCode(() => db.get('a'), C);
    expectThrowCode(() => db.range(), C);
    expectThrowCode(() => db.keys({ reverse: true }), C);
    expectThrowCode(() => db.snapshot(), C);
    expectThrowCode(() => db.stats(), C);
    expectThrowCode(() => db.check(), C);
    await expectRejectCode(() => db.put('a', '2'), C);
    await expectRejectCode(() => db.delete('a'), C);
    await expectRejectCode(() => db.add('b', '1'), C);
    await expectRejectCode(() => db.modify('a', '2'), C);
    await expectRejectCode(() => db.cas('a', '1', '2'), C);
    await expectRejectCode(() => db.cad('a', '1'), C);
    await expectRejectCode(() => db.batch([{ type: 'put', key: 'c', value: '3' }]), C);
    await expectRejectCode(() => db.batch([]), C);
    await expectRejectCode(() => db.reclaim(), C);
    // Nothing of that reached the disk.
    const db2 = openStore(dir);
    expect([...db2.range()].map(([x, v]) => `${x.toString()}=${v.toString()}`)).toEqual(['a=1']);
    expectCheck(db2);
  });

  it('writes issued after close() was called are refused, even before close() resolves', async () => {
    const dir = tmp();
    const db = openStore(dir, { sync: true });
    const early = db.put('early', '1');
    const closing = db.close();
    await expectRejectCode(() => db.put('late', '2'), 'BIRCH_CLOSED');
    await expectRejectCode(() => db.delete('early'), 'BIRCH_CLOSED');
    await early;
    await closing;
    const db2 = openStore(dir);
    expect(db2.get('early')?.toString()).toBe('1');
    expect(db2.get('late')).toBeUndefined();
    expectCheck(db2);
  });

  it('close() twice (or more) is fine', async () => {
    const dir = tmp();
    const db = openStore(dir);
    await db.put('a', '1');
    const c1 = db.close();
    const c2 = db.close();
    await expect(c1).resolves.toBeUndefined();
    await expect(c2).resolves.toBeUndefined();
    await expect(db.close()).resolves.toBeUndefined();
    const db2 = openStore(dir);
    expect(db2.get('a')?.toString()).toBe('1');
    expectCheck(db2);
  });
});

describe('the directory lock', () => {
  it('a second open of the same directory fails with BIRCH_LOCKED until the first is closed', async () => {
    const dir = tmp();
    const db = openStore(dir);
    await db.put('a', '1');
    const before = dirState(dir);
    expectThrowCode(() => open(dir), 'BIRCH_LOCKED');
    // Other spellings of the same path are the same store.
    expectThrowCode(() => open(path.join(dir, '.')), 'BIRCH_LOCKED');
    expectThrowCode(() => open(`${dir}/../${path.basename(dir)}`), 'BIRCH_LOCKED');
    expectThrowCode(() => open(path.relative(process.cwd(), dir)), 'BIRCH_LOCKED');
    expect(dirState(dir)).toEqual(before);
    // The first handle is unaffected.
    await db.put('b', '2');
    expect(db.get('a')?.toString()).toBe('1');
    expectCheck(db);
    await db.close();
    const db2 = openStore(dir);
    expect(db2.get('b')?.toString()).toBe('2');
    expectThrowCode(() => open(dir), 'BIRCH_LOCKED');
    expectCheck(db2);
  });

  it('reopening with another block size fails with BIRCH_BLOCK_SIZE; the same or none is fine', async () => {
    const dir = tmp();
    const db = openStore(dir, { blockSize: 8192 });
    await db.put('a', '1');
    await db.close();
    const before = dirState(dir);
    for (const blockSize of [2048, 4096, 16384, 8193]) {
      expectThrowCode(() => open(dir, { blockSize }), 'BIRCH_BLOCK_SIZE');
    }
    expect(dirState(dir)).toEqual(before);
    const db2 = openStore(dir);
    expect(db2.stats().blockSize).toBe(8192);
    expect(db2.get('a')?.toString()).toBe('1');
    await db2.close();
    const db3 = openStore(dir, { blockSize: 8192 });
    expect(db3.get('a')?.toString()).toBe('1');
    expectCheck(db3);
  });

  it('a failed open leaves no handle behind: the directory opens right after', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'foreign.txt'), 'x');
    expectThrowCode(() => open(dir), 'BIRCH_NOT_A_STORE');
    fs.rmSync(path.join(dir, 'foreign.txt'));
    const db = openStore(dir);
    expectThrowCode(() => open(dir, { blockSize: 2048 }), 'BIRCH_LOCKED');
    expectCheck(db);
  });
});

describe('open', () => {
  it('creates missing parent directories, and takes relative paths', async () => {
    const root = tmp();
    const deep = path.join(root, 'a', 'b', 'c');
    let db = openStore(deep);
    await db.put('x', '1');
    await db.close();
    expect(fs.readdirSync(deep)).toContain('birch.meta');
    db = openStore(path.relative(process.cwd(), deep));
    expect(db.get('x')?.toString()).toBe('1');
    expectCheck(db);
  });

  it('a store the tree layer refuses can be retried at once: the same error, never BIRCH_LOCKED', async () => {
    // Made with the block store directly (the public API cannot make them):
    // one whose last block is not a tree page, and one with 1 KiB blocks.
    const notAPage = tmp();
    const s1 = BlockStore.open(notAPage, { blockSize: 4096 });
    await s1.append([Buffer.from('not a page')]);
    await s1.close();
    const tiny = tmp();
    await BlockStore.open(tiny, { blockSize: 1024 }).close();
    for (const [dir, code] of [
      [notAPage, 'BIRCH_CORRUPT'],
      [tiny, 'BIRCH_BLOCK_SIZE'],
    ] as const) {
      const before = dirState(dir);
      for (let i = 0; i < 3; i++) expectThrowCode(() => open(dir), code);
      expect(dirState(dir)).toEqual(before);
    }
    const db = openStore();
    expectCheck(db);
  });
});

describe('a store much larger than its cache', () => {
  it('50,000 pairs through a 64 KiB cache: all read back after reopen, by get and by range', async () => {
    const dir = tmp();
    const n = 50_000;
    const value = (i: number): Buffer => Buffer.from(`value-${i}-${'x'.repeat(i % 40)}`);
    let db: Store = openStore(dir, { cacheSize: 64 * 1024 });
    for (let start = 0; start < n; start += 10_000) {
      const ps: Promise<void>[] = [];
      for (let i = start; i < start + 10_000; i++) ps.push(db.put(k(i), value(i)));
      await Promise.all(ps);
    }
    const s = db.stats();
    expect(s.keys).toBe(n);
    expect(s.pagesLive * s.blockSize).toBeGreaterThan(10 * 64 * 1024);
    await db.close();

    db = openStore(dir, { cacheSize: 64 * 1024 });
    for (let i = 0; i < n; i++) {
      const v = db.get(k(i));
      if (v === undefined || !v.equals(value(i))) expect(hex(v ?? Buffer.alloc(0)), k(i)).toBe(hex(value(i)));
    }
    let i = 0;
    for (const [key, v] of db.range()) {
      if (key.toString() !== k(i) || !v.equals(value(i))) expect(`${key.toString()}=${v.toString()}`).toBe(`${k(i)}=${value(i).toString()}`);
      i++;
    }
    expect(i).toBe(n);
    let j = n;
    for (const key of db.keys({ reverse: true })) {
      j--;
      if (key.toString() !== k(j)) expect(key.toString()).toBe(k(j));
    }
    expect(j).toBe(0);
    const after = db.stats();
    expect(after.cacheMisses).toBeGreaterThan(after.pagesLive);
    expect(after.cacheLimit).toBe(64 * 1024);
    expect(after.cacheBytes).toBeLessThanOrEqual(64 * 1024);
    expect(after.cacheHitRate).toBeGreaterThan(0);
    expect(after.cacheHitRate).toBeLessThan(1);
    expectCheck(db);
  });
});
