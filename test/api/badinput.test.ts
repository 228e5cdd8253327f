/**
 * Bad input over the whole public API. Every refusal carries a typed code;
 * async methods reject (never throw synchronously), sync methods throw; a
 * refused call changes nothing, in memory or on disk, and the store goes on
 * working.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, type BatchOp, type BirchErrorCode, type Store } from '../../src/index.js';
import {
  dirState,
  expectCheck,
  expectRejectCode,
  expectThrowCode,
  freshPath,
  keysHex,
  openStore,
  pairsHex,
  tmp,
} from './util.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/** Values that are not a key or value (Uint8Array or string). */
const NOT_BYTES: [string, unknown][] = [
  ['number', 1],
  ['NaN', NaN],
  ['null', null],
  ['undefined', undefined],
  ['object', {}],
  ['array', []],
  ['array of bytes', [0x61]],
  ['boolean', true],
  ['bigint', 1n],
  ['symbol', Symbol('k')],
  ['function', () => 'a'],
  ['ArrayBuffer', new ArrayBuffer(2)],
  ['Uint16Array', new Uint16Array(2)],
  ['DataView', new DataView(new ArrayBuffer(2))],
  ['String object', new String('a')],
];

/** Everything a refused call could have changed. */
function state(db: Store, dir: string): unknown {
  const s = db.stats();
  return {
    pairs: pairsHex(db.range()),
    keys: s.keys,
    commits: s.commits,
    requests: s.requests,
    pagesOnDisk: s.pagesOnDisk,
    pagesLive: s.pagesLive,
    disk: dirState(dir),
  };
}

async function seeded(): Promise<{ db: Store; dir: string }> {
  const dir = tmp();
  // No background cleaning: nothing may change on disk unless a test writes.
  const db = openStore(dir, { cleaning: 0 });
  await Promise.all([db.put('a', '1'), db.put('b', '2'), db.put('k', 'v')]);
  return { db, dir };
}

/** After the refusals: the store works, and its check passes. */
async function stillWorks(db: Store): Promise<void> {
  await db.put('after', 'ok');
  expect(db.get('after')?.toString()).toBe('ok');
  expect(await db.delete('after')).toBe(true);
  expectCheck(db);
}

describe('keys and values of the wrong type', () => {
  it('every method refuses them with BIRCH_BAD_ARGUMENT and changes nothing', async () => {
    const { db, dir } = await seeded();
    const before = state(db, dir);
    const snap = db.snapshot();
    const BAD: BirchErrorCode = 'BIRCH_BAD_ARGUMENT';
    for (const [, x] of NOT_BYTES) {
      const bad = x as Any;
      expectThrowCode(() => db.get(bad), BAD);
      expectThrowCode(() => snap.get(bad), BAD);
      await expectRejectCode(() => db.put(bad, 'v'), BAD);
      await expectRejectCode(() => db.put('k', bad), BAD);
      await expectRejectCode(() => db.delete(bad), BAD);
      await expectRejectCode(() => db.add(bad, 'v'), BAD);
      await expectRejectCode(() => db.add('new', bad), BAD);
      await expectRejectCode(() => db.modify(bad, 'v'), BAD);
      await expectRejectCode(() => db.modify('k', bad), BAD);
      await expectRejectCode(() => db.cas(bad, 'v', 'w'), BAD);
      await expectRejectCode(() => db.cas('k', bad, 'w'), BAD);
      await expectRejectCode(() => db.cas('k', 'v', bad), BAD);
      await expectRejectCode(() => db.cad(bad, 'v'), BAD);
      await expectRejectCode(() => db.cad('k', bad), BAD);
      await expectRejectCode(() => db.batch([{ type: 'put', key: bad, value: 'v' }]), BAD);
      await expectRejectCode(() => db.batch([{ type: 'put', key: 'k', value: bad }]), BAD);
      await expectRejectCode(() => db.batch([{ type: 'del', key: bad }]), BAD);
      if (x !== undefined) {
        // (An undefined bound is simply no bound.)
        for (const bound of ['gt', 'gte', 'lt', 'lte', 'prefix']) {
          expectThrowCode(() => db.range({ [bound]: bad }), BAD);
          expectThrowCode(() => db.keys({ [bound]: bad }), BAD);
          expectThrowCode(() => snap.range({ [bound]: bad }), BAD);
          expectThrowCode(() => snap.keys({ [bound]: bad }), BAD);
        }
      }
    }
    expect(snap.get('k')?.toString()).toBe('v');
    snap.release();
    expect(state(db, dir)).toEqual(before);
    await stillWorks(db);
  });
});

describe('oversized keys and values', () => {
  it('keys over 255 bytes: BIRCH_KEY_TOO_LARGE; values over 255: BIRCH_VALUE_TOO_LARGE; nothing changes', async () => {
    const { db, dir } = await seeded();
    const before = state(db, dir);
    const K = 'BIRCH_KEY_TOO_LARGE';
    const V = 'BIRCH_VALUE_TOO_LARGE';
    const snap = db.snapshot();
    for (const big of [Buffer.alloc(256, 0x61), 'x'.repeat(256), new Uint8Array(1000), 'é'.repeat(128)]) {
      expectThrowCode(() => db.get(big), K);
      expectThrowCode(() => snap.get(big), K);
      await expectRejectCode(() => db.put(big, 'v'), K);
      await expectRejectCode(() => db.delete(big), K);
      await expectRejectCode(() => db.add(big, 'v'), K);
      await expectRejectCode(() => db.modify(big, 'v'), K);
      await expectRejectCode(() => db.cas(big, 'v', 'w'), K);
      await expectRejectCode(() => db.cad(big, 'v'), K);
      await expectRejectCode(() => db.batch([{ type: 'put', key: big, value: 'v' }]), K);
      await expectRejectCode(() => db.batch([{ type: 'del', key: big }]), K);

      await expectRejectCode(() => db.put('k', big), V);
      await expectRejectCode(() => db.add('new', big), V);
      await expectRejectCode(() => db.modify('k', big), V);
      await expectRejectCode(() => db.cas('k', 'v', big), V);
      await expectRejectCode(() => db.cas('k', big, 'w'), V);
      await expectRejectCode(() => db.cad('k', big), V);
      await expectRejectCode(() => db.batch([{ type: 'put', key: 'k', value: big }]), V);
    }
    // Exactly 255 is fine.
    snap.release();
    expect(state(db, dir)).toEqual(before);
    await db.put(Buffer.alloc(255, 1), Buffer.alloc(255, 2));
    expect(db.get(Buffer.alloc(255, 1))?.equals(Buffer.alloc(255, 2))).toBe(true);
    await stillWorks(db);
  });
});

describe('batch', () => {
  it('refuses what is not an array of put/del operations', async () => {
    const { db, dir } = await seeded();
    const before = state(db, dir);
    const BAD = 'BIRCH_BAD_ARGUMENT';
    for (const notArray of [undefined, null, {}, 'put', 5, { length: 1, 0: { type: 'put', key: 'a', value: 'b' } }, new Set()]) {
      await expectRejectCode(() => db.batch(notArray as Any), BAD);
    }
    const badOps: unknown[] = [
      null,
      undefined,
      5,
      'put',
      [],
      {},
      { key: 'a', value: 'b' },
      { type: 'delete', key: 'a' },
      { type: 'set', key: 'a', value: 'b' },
      { type: 'PUT', key: 'a', value: 'b' },
      { type: 'get', key: 'a' },
      { type: ['put'], key: 'a', value: 'b' },
      { type: 'put', key: 'a' }, // no value
      { type: 'put', value: 'b' }, // no key
      { type: 'del' }, // no key
    ];
    for (const op of badOps) {
      await expectRejectCode(() => db.batch([op as BatchOp]), BAD);
    }
    expect(state(db, dir)).toEqual(before);
    await stillWorks(db);
  });

  it('one bad operation among good ones: rejected, and none applied', async () => {
    const { db, dir } = await seeded();
    const good: BatchOp[] = [];
    for (let i = 0; i < 100; i++) good.push({ type: 'put', key: `g${i}`, value: `v${i}` });
    good.push({ type: 'del', key: 'a' }, { type: 'put', key: 'b', value: 'changed' });
    const cases: [BatchOp, BirchErrorCode][] = [
      [{ type: 'put', key: 5 as Any, value: 'x' }, 'BIRCH_BAD_ARGUMENT'],
      [{ type: 'bogus' } as Any, 'BIRCH_BAD_ARGUMENT'],
      [null as Any, 'BIRCH_BAD_ARGUMENT'],
      [{ type: 'put', key: 'x'.repeat(256), value: 'x' }, 'BIRCH_KEY_TOO_LARGE'],
      [{ type: 'del', key: Buffer.alloc(300) }, 'BIRCH_KEY_TOO_LARGE'],
      [{ type: 'put', key: 'x', value: Buffer.alloc(256) }, 'BIRCH_VALUE_TOO_LARGE'],
    ];
    const before = state(db, dir);
    for (const [bad, code] of cases) {
      for (const at of [0, 50, good.length]) {
        const ops = [...good.slice(0, at), bad, ...good.slice(at)];
        await expectRejectCode(() => db.batch(ops), code);
      }
    }
    expect(state(db, dir)).toEqual(before);
    expect(db.get('g0')).toBeUndefined();
    expect(db.get('a')?.toString()).toBe('1');
    expect(db.get('b')?.toString()).toBe('2');
    // A refused batch does not disturb the writes issued around it.
    const [r1, r2, r3] = await Promise.allSettled([
      db.put('n1', '1'),
      db.batch([...good, cases[0]![0]]),
      db.put('n2', '2'),
    ]);
    expect(r1.status).toBe('fulfilled');
    expect(r2.status).toBe('rejected');
    expect(r3.status).toBe('fulfilled');
    expect(keysHex(db.keys({ prefix: 'n' }))).toEqual(['6e31', '6e32']);
    expect(db.get('g0')).toBeUndefined();
    // And the good operations alone do apply.
    await db.batch(good);
    expect(db.get('g99')?.toString()).toBe('v99');
    expect(db.get('a')).toBeUndefined();
    await stillWorks(db);
  });
});

describe('range options', () => {
  it('refuses unknown options, bad limits, bad reverse and non-objects, before pinning anything', async () => {
    const dir = tmp();
    const db = openStore(dir, { segmentSize: 64 * 1024, cacheSize: 64 * 1024, cleaning: 0 });
    const load = async (gen: number): Promise<void> => {
      const ps: Promise<void>[] = [];
      for (let i = 0; i < 2000; i++) ps.push(db.put(`key${String(i).padStart(5, '0')}`, `${gen}`.padEnd(100, '.')));
      await Promise.all(ps);
    };
    await load(0);
    const snap = db.snapshot();
    const BAD = 'BIRCH_BAD_ARGUMENT';
    const bads: unknown[] = [
      { bogus: 1 },
      { gt: 'a', bogus: undefined },
      { Limit: 3 },
      { limit: -1 },
      { limit: 1.5 },
      { limit: NaN },
      { limit: -Infinity },
      { limit: '5' },
      { limit: null },
      { limit: 5n },
      { reverse: 'x' },
      { reverse: 1 },
      { reverse: 'true' },
      { reverse: null },
      null,
      5,
      'gt',
      true,
      [],
      [{ gt: 'a' }],
      () => ({}),
    ];
    for (const o of bads) {
      expectThrowCode(() => db.range(o as Any), BAD);
      expectThrowCode(() => db.keys(o as Any), BAD);
      expectThrowCode(() => snap.range(o as Any), BAD);
      expectThrowCode(() => snap.keys(o as Any), BAD);
    }
    // Accepted: undefined members, an explicit Infinity limit, an empty object.
    expect([...db.keys({ gt: undefined, reverse: undefined, limit: undefined })].length).toBe(2000);
    expect([...db.keys({ limit: Infinity, reverse: false })].length).toBe(2000);
    expect([...db.keys({})].length).toBe(2000);
    snap.release();
    // The refused calls pinned nothing: once rewritten, the old tree's space goes.
    await load(1);
    await load(2);
    await db.reclaim();
    const s = db.stats();
    expect(s.pagesOnDisk).toBeLessThan(2 * s.pagesLive + 32);
    expectCheck(db);
  });
});

describe('open', () => {
  it('refuses invalid options with BIRCH_BAD_ARGUMENT and creates nothing', () => {
    const p = freshPath();
    const bads: unknown[] = [
      null,
      'sync',
      5,
      [],
      true,
      { bogus: 1 },
      { blocksize: 4096 },
      { blockSize: 1000 },
      { blockSize: 512 },
      { blockSize: 2047 },
      { blockSize: 65537 },
      { blockSize: 131072 },
      { blockSize: 3000.5 },
      { blockSize: -4096 },
      { blockSize: 0 },
      { blockSize: NaN },
      { blockSize: Infinity },
      { blockSize: '4096' },
      { blockSize: null },
      { segmentSize: 0 },
      { segmentSize: -1 },
      { segmentSize: 1.5 },
      { segmentSize: '65536' },
      { segmentSize: NaN },
      { cacheSize: -1 },
      { cacheSize: 1.5 },
      { cacheSize: NaN },
      { cacheSize: Infinity },
      { cacheSize: '1' },
      { cacheSize: null },
      { cleaning: -1 },
      { cleaning: NaN },
      { cleaning: Infinity },
      { cleaning: '1' },
      { cleaning: null },
      { cleaning: true },
      { spaceTarget: 1 },
      { spaceTarget: 1.09 },
      { spaceTarget: 100.5 },
      { spaceTarget: NaN },
      { spaceTarget: Infinity },
      { spaceTarget: '1.5' },
      { spaceTarget: null },
      { sync: 'yes' },
      { sync: 1 },
      { sync: 0 },
      { sync: null },
      { sync: 'false' },
    ];
    for (const o of bads) {
      expectThrowCode(() => open(p, o as Any), 'BIRCH_BAD_ARGUMENT');
      expect(fs.existsSync(p), JSON.stringify(o)).toBe(false);
    }
    const db = openStore(p);
    expectCheck(db);
  });

  it('accepts the edges of the valid ranges', async () => {
    for (const opts of [
      { blockSize: 2048, cacheSize: 0, cleaning: 0, segmentSize: 1 },
      { blockSize: 65536, cleaning: 0.001, spaceTarget: 1.1 },
      { blockSize: 3000, sync: true, spaceTarget: 100 },
    ]) {
      const dir = tmp();
      let db = openStore(dir, opts);
      const ps: Promise<void>[] = [];
      for (let i = 0; i < 300; i++) ps.push(db.put(Buffer.alloc(255, i & 0xff).fill(i >> 8, 0, 1), Buffer.alloc(255, i & 0xff)));
      await Promise.all(ps);
      await db.put('x', 'y');
      expect(db.stats().blockSize).toBe(opts.blockSize);
      await db.close();
      db = openStore(dir, { blockSize: opts.blockSize });
      expect(db.stats().keys).toBe(301);
      expect(db.get(Buffer.alloc(255, 7).fill(0, 0, 1))?.equals(Buffer.alloc(255, 7))).toBe(true);
      expectCheck(db);
    }
  });

  it('refuses a path that is not a non-empty string', () => {
    for (const p of ['', 123, undefined, null, {}, ['/tmp/x'], Buffer.from('/tmp/x')]) {
      expectThrowCode(() => open(p as Any), 'BIRCH_BAD_ARGUMENT');
    }
    const db = openStore();
    expectCheck(db);
  });

  it('refuses a regular file with BIRCH_NOT_A_STORE and leaves it alone', () => {
    const dir = tmp();
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, 'hello, not a store');
    const before = dirState(dir);
    expectThrowCode(() => open(file), 'BIRCH_NOT_A_STORE');
    expectThrowCode(() => open(file, { blockSize: 4096 }), 'BIRCH_NOT_A_STORE');
    expect(dirState(dir)).toEqual(before);
    // Under a regular file nothing can be made either (whatever the code, it refuses).
    expect(() => open(path.join(file, 'sub'))).toThrow();
    expect(dirState(dir)).toEqual(before);
    const db = openStore(path.join(dir, 'real'));
    expectCheck(db);
  });

  it('refuses a directory of foreign files with BIRCH_NOT_A_STORE and leaves it exactly as it was', () => {
    const layouts: Record<string, string | Buffer>[] = [
      { 'notes.txt': 'hello', 'data.bin': Buffer.from([0, 1, 2, 255]) },
      { 'sub/inner.txt': 'deep' },
      { '.hidden': '' },
      { '0000000000000000.seg': Buffer.alloc(4096, 7) }, // looks like a segment, but there is no meta file
      { 'birch.lock': '', 'other.txt': 'x' },
      { 'birch.meta': 'this is not birch meta data at all' }, // a foreign file by birch's meta name
      { 'birch.meta': Buffer.alloc(32), 'x.seg': 'y' },
    ];
    for (const layout of layouts) {
      const dir = tmp();
      for (const [name, content] of Object.entries(layout)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
      }
      const before = dirState(dir);
      expectThrowCode(() => open(dir), 'BIRCH_NOT_A_STORE');
      expectThrowCode(() => open(dir, { blockSize: 4096, sync: false }), 'BIRCH_NOT_A_STORE');
      expect(dirState(dir), JSON.stringify(Object.keys(layout))).toEqual(before);
    }
    const db = openStore();
    expectCheck(db);
  });
});
