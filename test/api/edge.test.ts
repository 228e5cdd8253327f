/**
 * Edge cases of keys, values and ranges through the public API: empty and
 * maximal keys and values, 0x00/0xff bytes, unsigned byte order, the empty
 * store, empty ranges, prefixes, reverse with limit, the three key types,
 * UTF-8 lengths, and that buffers crossing the API are copies.
 */
import { describe, expect, it } from 'vitest';
import { type BatchOp, type RangeOptions, type Store } from '../../src/index.js';
import {
  b,
  expectCheck,
  expectRejectCode,
  expectThrowCode,
  hex,
  keysHex,
  openStore,
  pairsHex,
  refRange,
  tmp,
} from './util.js';

/** Put every pair (issued together: one group commit) and record it in `model`. */
async function putAll(db: Store, model: Map<string, string>, pairs: [Uint8Array, Uint8Array][]): Promise<void> {
  await Promise.all(pairs.map(([k, v]) => db.put(k, v)));
  for (const [k, v] of pairs) model.set(hex(k), hex(v));
}

function expectRange(db: Store, model: Map<string, string>, opts: RangeOptions): void {
  const want = refRange(model, opts);
  expect(pairsHex(db.range(opts)), JSON.stringify(opts)).toEqual(want);
  expect(keysHex(db.keys(opts)), JSON.stringify(opts)).toEqual(want.map(([k]) => k));
}

describe('key and value sizes', () => {
  it('stores the empty key, and it sorts first', async () => {
    const db = openStore();
    await db.put('', 'empty');
    await db.put(Buffer.from([0x00]), 'zero');
    await db.put('a', 'A');
    expect(db.get('')?.toString()).toBe('empty');
    expect(db.get(Buffer.alloc(0))?.toString()).toBe('empty');
    expect(db.get(new Uint8Array(0))?.toString()).toBe('empty');
    expect(keysHex(db.keys())).toEqual(['', '00', '61']);
    expect(keysHex(db.keys({ reverse: true }))).toEqual(['61', '00', '']);
    expect(keysHex(db.keys({ gt: '' }))).toEqual(['00', '61']);
    expect(keysHex(db.keys({ gte: '' }))).toEqual(['', '00', '61']);
    expect(keysHex(db.keys({ lt: Buffer.from([0x00]) }))).toEqual(['']);
    expect(keysHex(db.keys({ lte: '' }))).toEqual(['']);
    expect(keysHex(db.keys({ lt: '' }))).toEqual([]);
    expect(await db.add('', 'again')).toBe(false);
    expect(await db.cas('', 'empty', 'E2')).toBe(true);
    expect(db.get('')?.toString()).toBe('E2');
    expect(await db.delete('')).toBe(true);
    expect(db.get('')).toBeUndefined();
    expect(await db.delete('')).toBe(false);
    expect(keysHex(db.keys())).toEqual(['00', '61']);
    await db.put('', '');
    expect(db.get('')?.length).toBe(0);
    expectCheck(db);
  });

  it('keeps the empty key across reopen and many pages', async () => {
    const dir = tmp();
    let db = openStore(dir, { blockSize: 2048 });
    const model = new Map<string, string>();
    const pairs: [Uint8Array, Uint8Array][] = [[Buffer.alloc(0), b('first')]];
    for (let i = 0; i < 2000; i++) pairs.push([b(`k${String(i).padStart(5, '0')}`), b(`v${i}`)]);
    await putAll(db, model, pairs);
    expect(db.stats().height).toBeGreaterThan(1);
    await db.close();
    db = openStore(dir);
    expect(db.get('')?.toString()).toBe('first');
    expect(hex(db.keys({ limit: 1 }).next().value!)).toBe('');
    expect(hex(db.keys({ reverse: true }).next().value!)).toBe(hex(b('k01999')));
    const all = [...db.keys({ reverse: true })];
    expect(all.length).toBe(2001);
    expect(hex(all[all.length - 1]!)).toBe('');
    expectCheck(db);
  });

  it('stores 255-byte keys and values (the maximum), even at the smallest block size', async () => {
    const dir = tmp();
    let db = openStore(dir, { blockSize: 2048 });
    const model = new Map<string, string>();
    const pairs: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 300; i++) {
      // 255-byte keys that differ only in their last two bytes: long shared prefixes.
      const k = Buffer.alloc(255, 0x61);
      k.writeUInt16BE(i, 253);
      const v = Buffer.alloc(255, i & 0xff);
      pairs.push([k, v]);
    }
    pairs.push([Buffer.alloc(255, 0xff), Buffer.alloc(255, 0xff)]);
    pairs.push([Buffer.alloc(255, 0x00), Buffer.alloc(255, 0x00)]);
    await putAll(db, model, pairs);
    expect(db.stats().keys).toBe(302);
    expect(db.stats().height).toBeGreaterThan(1);
    for (const [k, v] of pairs) expect(hex(db.get(k)!)).toBe(hex(v));
    expectRange(db, model, {});
    expectRange(db, model, { reverse: true });
    expectRange(db, model, { prefix: Buffer.alloc(254, 0x61), limit: 7 });
    expectCheck(db);
    await db.close();
    db = openStore(dir);
    expectRange(db, model, {});
    for (const [k, v] of pairs) expect(hex(db.get(k)!)).toBe(hex(v));
    // And deleting them all again collapses the tree to an empty root.
    await Promise.all(pairs.map(([k]) => db.delete(k)));
    expect(db.stats().keys).toBe(0);
    expect(db.stats().height).toBe(1);
    expect([...db.range()]).toEqual([]);
    expectCheck(db);
  });

  it('stores 0-byte values, which are not the same as missing', async () => {
    const db = openStore();
    await db.put('k', '');
    const v = db.get('k');
    expect(v).toBeInstanceOf(Buffer);
    expect(v!.length).toBe(0);
    expect(db.get('missing')).toBeUndefined();
    expect(pairsHex(db.range())).toEqual([[hex(b('k')), '']]);
    expect(await db.add('k', 'x')).toBe(false);
    expect(await db.modify('k', '')).toBe(true);
    expect(await db.cas('k', 'x', 'y')).toBe(false);
    expect(await db.cas('k', new Uint8Array(0), 'y')).toBe(true);
    expect(db.get('k')?.toString()).toBe('y');
    expect(await db.cas('k', 'y', Buffer.alloc(0))).toBe(true);
    expect(await db.cad('k', 'y')).toBe(false);
    expect(await db.cad('k', '')).toBe(true);
    expect(db.get('k')).toBeUndefined();
    // cas/cad with an empty expected value never match a missing key.
    expect(await db.cas('k', '', 'z')).toBe(false);
    expect(await db.cad('k', '')).toBe(false);
    expect(db.get('k')).toBeUndefined();
    expectCheck(db);
  });

  it('counts UTF-8 bytes, not characters, against the 255-byte limit', async () => {
    const db = openStore();
    const e255 = 'é'.repeat(127) + 'a'; // 254 + 1 bytes
    const e256 = 'é'.repeat(128); // 256 bytes in 128 characters
    expect(Buffer.byteLength(e255)).toBe(255);
    await db.put(e255, e255);
    expect(db.get(e255)?.toString()).toBe(e255);
    expect(db.get(Buffer.from(e255))?.toString()).toBe(e255);
    await expectRejectCode(() => db.put(e256, 'v'), 'BIRCH_KEY_TOO_LARGE');
    await expectRejectCode(() => db.put('k', e256), 'BIRCH_VALUE_TOO_LARGE');
    expectThrowCode(() => db.get(e256), 'BIRCH_KEY_TOO_LARGE');
    const emoji = '😀'.repeat(63) + 'abc'; // 4 * 63 + 3 = 255 bytes
    await db.put(emoji, 'ok');
    expect(db.get(emoji)?.toString()).toBe('ok');
    await expectRejectCode(() => db.put('😀'.repeat(64), 'v'), 'BIRCH_KEY_TOO_LARGE');
    // 'é' is the bytes c3 a9, so it sorts after every ASCII key.
    await db.put('z', '1');
    await db.put('é', '2');
    expect(db.get(Buffer.from([0xc3, 0xa9]))?.toString()).toBe('2');
    const ks = [...db.keys()].map((k) => k.toString());
    expect(ks.indexOf('z')).toBeLessThan(ks.indexOf('é'));
    expect(db.stats().keys).toBe(4);
    expectCheck(db);
  });
});

describe('byte order', () => {
  it('orders keys by unsigned bytes, shorter prefix first', async () => {
    const db = openStore();
    const model = new Map<string, string>();
    const keys = [
      Buffer.from([0x7f]),
      Buffer.from([0x80]),
      Buffer.from([0xff]),
      Buffer.from([0x00]),
      Buffer.from([0x00, 0x00]),
      Buffer.from([0x00, 0xff]),
      Buffer.from([0xff, 0x00]),
      Buffer.from([0xff, 0xff]),
      Buffer.from([0x01]),
      b('a'),
      b('ab'),
      b('b'),
      b('a\u0000b'),
      b('a\u007f'),
      Buffer.from([0x61, 0x80]),
      Buffer.from([0x61, 0xff]),
    ];
    await putAll(
      db,
      model,
      keys.map((k, i) => [k, Buffer.from([i])]),
    );
    const got = keysHex(db.keys());
    expect(got).toEqual(
      [
        '00',
        '0000',
        '00ff',
        '01',
        '61',
        '610062',
        '6162',
        '617f',
        '6180',
        '61ff',
        '62',
        '7f',
        '80',
        'ff',
        'ff00',
        'ffff',
      ],
    );
    expect(keysHex(db.keys({ reverse: true }))).toEqual([...got].reverse());
    expect(keysHex(db.keys({ gt: Buffer.from([0x7f]), lt: Buffer.from([0xff]) }))).toEqual(['80']);
    expect(keysHex(db.keys({ gte: 'a', lte: 'b' }))).toEqual(['61', '610062', '6162', '617f', '6180', '61ff', '62']);
    expectCheck(db);
  });

  it('orders all 256 one-byte keys and their two-byte extensions across pages', async () => {
    const db = openStore(tmp(), { blockSize: 2048 });
    const model = new Map<string, string>();
    const pairs: [Uint8Array, Uint8Array][] = [];
    for (let i = 255; i >= 0; i--) {
      pairs.push([Buffer.from([i]), Buffer.alloc(20, i)]);
      pairs.push([Buffer.from([i, 0xff - i]), Buffer.alloc(20, 0xff - i)]);
    }
    await putAll(db, model, pairs);
    expect(db.stats().height).toBeGreaterThan(1);
    const ks = [...db.keys()];
    for (let i = 1; i < ks.length; i++) expect(Buffer.compare(ks[i - 1]!, ks[i]!)).toBe(-1);
    expect(ks.length).toBe(512);
    expect(hex(ks[0]!)).toBe('00');
    expect(hex(ks[1]!)).toBe('00ff');
    expect(hex(ks[511]!)).toBe('ff00');
    for (const opts of [
      { gt: Buffer.from([0x7f]), lte: Buffer.from([0x80]) },
      { gte: Buffer.from([0x7f, 0x80]), lt: Buffer.from([0x80, 0x00]), reverse: true },
      { prefix: Buffer.from([0x80]) },
      { prefix: Buffer.from([0xff]), reverse: true },
    ] as RangeOptions[]) {
      expectRange(db, model, opts);
      expect(refRange(model, opts).length).toBeGreaterThan(0);
    }
    expectCheck(db);
  });
});

describe('the empty store', () => {
  const expectEmpty = (db: Store): void => {
    expect(db.get('')).toBeUndefined();
    expect(db.get('a')).toBeUndefined();
    expect([...db.range()]).toEqual([]);
    expect([...db.keys()]).toEqual([]);
    expect([...db.range({ reverse: true })]).toEqual([]);
    expect([...db.range({ reverse: true, limit: 5, gt: 'a', lt: 'z' })]).toEqual([]);
    expect([...db.keys({ prefix: '' })]).toEqual([]);
    expect([...db.keys({ prefix: Buffer.from([0xff]) })]).toEqual([]);
    const snap = db.snapshot();
    expect(snap.get('a')).toBeUndefined();
    expect([...snap.range()]).toEqual([]);
    snap.release();
    const r = db.check();
    expect(r).toMatchObject({ ok: true, problems: [], keys: 0, height: 1 });
    const s = db.stats();
    expect(s.keys).toBe(0);
    expect(s.height).toBe(1);
    expect(s.cacheHitRate).toBeGreaterThanOrEqual(0);
    expect(s.cacheHitRate).toBeLessThanOrEqual(1);
    expect(Number.isFinite(s.averageBatch)).toBe(true);
  };

  it('reads nothing from a new store, before and after reopen', async () => {
    const dir = tmp();
    let db = openStore(dir);
    expectEmpty(db);
    const s = db.stats();
    expect(s.commits).toBe(0);
    expect(s.requests).toBe(0);
    expect(s.averageBatch).toBe(0);
    expect(s.pagesOnDisk).toBe(0);
    expect(s.blockSize).toBe(4096);
    expectCheck(db);
    await db.close();
    db = openStore(dir);
    expectEmpty(db);
    expect(db.stats().pagesOnDisk).toBe(0);
    expectCheck(db);
  });

  it('is empty again after everything is deleted, and after reopen', async () => {
    const dir = tmp();
    let db = openStore(dir, { blockSize: 2048 });
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) ps.push(db.put(`key${i}`, `value${i}`.padEnd(150, '.')));
    await Promise.all(ps);
    expect(db.stats().height).toBeGreaterThan(2);
    const dels = await Promise.all(Array.from({ length: 3000 }, (_, i) => db.delete(`key${i}`)));
    expect(dels.every((x) => x)).toBe(true);
    expectEmpty(db);
    expect(db.stats().pagesLive).toBe(1);
    expectCheck(db);
    await db.close();
    db = openStore(dir);
    expectEmpty(db);
    expect(db.stats().pagesLive).toBe(1);
    expectCheck(db);
  });

  it('deletes and conditional writes on an empty store change nothing', async () => {
    const db = openStore();
    expect(await db.delete('a')).toBe(false);
    expect(await db.modify('a', '1')).toBe(false);
    expect(await db.cas('a', '', '1')).toBe(false);
    expect(await db.cad('a', '')).toBe(false);
    await db.batch([]);
    await db.batch([{ type: 'del', key: 'a' }]);
    expect(db.stats().keys).toBe(0);
    expectEmpty(db);
    expectCheck(db);
  });
});

describe('ranges', () => {
  /** ~1500 keys over several levels: words under a few prefixes, plus 0x00/0xff keys. */
  async function populated(): Promise<{ db: Store; model: Map<string, string> }> {
    const db = openStore(tmp(), { blockSize: 2048 });
    const model = new Map<string, string>();
    const pairs: [Uint8Array, Uint8Array][] = [];
    for (const p of ['a', 'ab', 'b', 'user:', '\u0000', '']) {
      for (let i = 0; i < 240; i++) pairs.push([b(`${p}${String(i).padStart(3, '0')}`), b(`${p}=${i}`.padEnd(200, '.'))]);
    }
    for (let i = 0; i < 40; i++) {
      pairs.push([Buffer.from([0xff, i]), b(`ff${i}`)]);
      pairs.push([Buffer.from([0xff, 0xff, i]), b(`ffff${i}`)]);
      pairs.push([Buffer.from([0x61, 0xff, i]), b(`a-ff${i}`)]);
    }
    pairs.push([Buffer.from([0xff]), b('ff')], [Buffer.from([0xff, 0xff]), b('ffff')], [b('a'), b('just a')]);
    await putAll(db, model, pairs);
    expect(db.stats().height).toBeGreaterThan(2);
    return { db, model };
  }

  it('yields nothing for empty intervals, prefixes that match nothing and limit 0', async () => {
    const { db, model } = await populated();
    const empties: RangeOptions[] = [
      { gt: 'b', lt: 'a' },
      { gte: 'b', lte: 'a' },
      { gt: 'b100', lt: 'b100' },
      { gte: 'b100', lt: 'b100' },
      { gt: 'b100', lte: 'b100' },
      { gt: 'b100', lt: 'b101' }, // adjacent keys: nothing strictly between
      { prefix: 'c' },
      { prefix: 'user:9' },
      { prefix: Buffer.from([0xfe]) },
      { prefix: 'a', gt: 'b' },
      { prefix: 'b', lt: 'a' },
      { limit: 0 },
      { limit: 0, reverse: true },
      { prefix: 'a', limit: 0 },
      { gt: Buffer.from([0xff, 0xff, 0xff]) },
      { lt: '' },
    ];
    for (const opts of empties) {
      expect(refRange(model, opts)).toEqual([]);
      expect([...db.range(opts)], JSON.stringify(opts)).toEqual([]);
      expect([...db.range({ ...opts, reverse: !opts.reverse })], JSON.stringify(opts)).toEqual([]);
      expect([...db.keys(opts)]).toEqual([]);
    }
    // A one-key interval is not empty.
    expect(keysHex(db.keys({ gte: 'b100', lte: 'b100' }))).toEqual([hex(b('b100'))]);
    expect(keysHex(db.keys({ gte: 'b100', lte: 'b100', reverse: true }))).toEqual([hex(b('b100'))]);
    expectCheck(db);
  });

  it('matches prefixes, including 0xff prefixes and the empty prefix', async () => {
    const { db, model } = await populated();
    const prefixes: (string | Uint8Array)[] = [
      'a',
      'ab',
      'ab1',
      'user:',
      'user:23',
      '',
      Buffer.alloc(0),
      Buffer.from([0x00]),
      Buffer.from([0xff]),
      Buffer.from([0xff, 0xff]),
      Buffer.from([0xff, 0xff, 0x05]),
      Buffer.from([0x61, 0xff]),
      new Uint8Array([0x62]),
    ];
    for (const prefix of prefixes) {
      for (const reverse of [false, true]) {
        const opts = { prefix, reverse };
        const want = refRange(model, opts);
        if (!(typeof prefix === 'string' ? prefix === '' : prefix.length === 0)) {
          expect(want.length, hex(Buffer.from(prefix))).toBeLessThan(model.size);
        }
        expect(want.length).toBeGreaterThan(0);
        expectRange(db, model, opts);
        expectRange(db, model, { ...opts, limit: 3 });
      }
    }
    // The empty prefix is everything; [0xff] is every key from 0xff on.
    expect([...db.keys({ prefix: '' })].length).toBe(model.size);
    expect(keysHex(db.keys({ prefix: Buffer.from([0xff]), limit: 2 }))).toEqual(['ff', 'ff00']);
    expect(keysHex(db.keys({ prefix: Buffer.from([0xff]), reverse: true, limit: 2 }))).toEqual(['ffff27', 'ffff26']);
    expectCheck(db);
  });

  it('combines prefix with gt/gte/lt/lte, in both directions, with limits', async () => {
    const { db, model } = await populated();
    const combos: RangeOptions[] = [
      { prefix: 'a', gt: 'a100' },
      { prefix: 'a', gte: 'a100', lt: 'a200' },
      { prefix: 'a', gt: '0' }, // bound looser than the prefix
      { prefix: 'a', lt: 'zzz' },
      { prefix: 'a', lte: 'ab' },
      { prefix: 'ab', gte: 'a' },
      { prefix: 'user:', gt: 'user:1', lte: 'user:2' },
      { prefix: Buffer.from([0xff]), gt: Buffer.from([0xff, 0x10]) },
      { prefix: Buffer.from([0xff]), lt: Buffer.from([0xff, 0xff]) },
      { prefix: Buffer.from([0xff, 0xff]), gte: Buffer.from([0xff, 0xff]), lt: Buffer.from([0xff, 0xff, 0x03]) },
      { prefix: '', gt: 'b', lt: 'user:' },
      { gt: 'a', gte: 'a050' }, // two lower bounds: the tighter wins
      { gte: 'a050', gt: 'a050' },
      { lt: 'b', lte: 'ab200' },
      { lte: 'ab200', lt: 'ab200' },
    ];
    for (const base of combos) {
      for (const reverse of [false, true]) {
        for (const limit of [undefined, 1, 5, 1000]) {
          const opts: RangeOptions = { ...base, reverse, ...(limit !== undefined && { limit }) };
          expectRange(db, model, opts);
        }
      }
      expect(refRange(model, base).length, JSON.stringify(base)).toBeGreaterThan(0);
    }
    expectCheck(db);
  });

  it('reverse with limit starts at the upper bound', async () => {
    const { db, model } = await populated();
    // Below 'b' the largest keys are a 0xff i (0x61 0xff sorts after 'ab...').
    expect(keysHex(db.keys({ reverse: true, limit: 3, lt: 'b' }))).toEqual(['61ff27', '61ff26', '61ff25']);
    expect(keysHex(db.keys({ reverse: true, limit: 2, lt: Buffer.from([0x61, 0xff]) }))).toEqual(
      ['ab239', 'ab238'].map((s) => hex(b(s))),
    );
    expect(keysHex(db.keys({ reverse: true, limit: 2, lte: 'b005' }))).toEqual(['b005', 'b004'].map((s) => hex(b(s))));
    expect(keysHex(db.keys({ reverse: true, limit: 2, lte: 'b0055' }))).toEqual(['b005', 'b004'].map((s) => hex(b(s))));
    expect(keysHex(db.keys({ reverse: true, limit: 1 }))).toEqual(['ffff27']);
    expect(keysHex(db.keys({ reverse: true, limit: 1, gt: 'user:238' }))).toEqual(['ffff27']);
    expect(keysHex(db.keys({ reverse: true, limit: 2, gt: 'user:237', lt: Buffer.from([0xff]) }))).toEqual(
      ['user:239', 'user:238'].map((s) => hex(b(s))),
    );
    // Every limit from 0 to past the end, counted the reference way.
    for (const limit of [0, 1, 2, 239, 240, 241, 10_000]) {
      expectRange(db, model, { reverse: true, limit, prefix: 'b' });
      expectRange(db, model, { reverse: false, limit, prefix: 'b' });
    }
    // limit: Infinity is "no limit".
    expect([...db.keys({ limit: Infinity })].length).toBe(model.size);
    expectCheck(db);
  });

  it('bounds may be longer than any key (they are not keys)', async () => {
    const { db, model } = await populated();
    const long = Buffer.alloc(300, 0x61);
    expectRange(db, model, { lt: long });
    expectRange(db, model, { gt: long, lt: 'b' });
    expectRange(db, model, { prefix: long });
    expect([...db.keys({ prefix: long })]).toEqual([]);
    expect(keysHex(db.keys({ gt: long, limit: 1 }))).toEqual([hex(b('ab000'))]);
    expectCheck(db);
  });

  it('iterators are lazy and independent', async () => {
    const { db, model } = await populated();
    const all = refRange(model);
    const a = db.keys();
    const r = db.keys({ reverse: true });
    expect(hex(a.next().value!)).toBe(all[0]![0]);
    expect(hex(r.next().value!)).toBe(all[all.length - 1]![0]);
    expect(hex(a.next().value!)).toBe(all[1]![0]);
    expect([...a].length).toBe(all.length - 2);
    expect(a.next().done).toBe(true);
    expect(a.next().done).toBe(true);
    expect(r.return!().done).toBe(true);
    expect(r.next().done).toBe(true);
    expectCheck(db);
  });
});

describe('key types', () => {
  it('string, Buffer, Uint8Array and Uint8Array views name the same keys', async () => {
    const db = openStore();
    const forms = (s: string): (string | Uint8Array)[] => {
      const buf = Buffer.from(s);
      const big = new Uint8Array(buf.length + 10);
      big.set(buf, 5);
      return [s, buf, new Uint8Array(buf), big.subarray(5, 5 + buf.length), Buffer.from(big.buffer, 5, buf.length)];
    };
    const names = ['', 'a', 'ab', 'héllo', 'b\u0000c'];
    for (const [i, name] of names.entries()) {
      const f = forms(name);
      await db.put(f[i % f.length]!, f[(i + 2) % f.length]!);
    }
    for (const name of names) {
      for (const f of forms(name)) {
        expect(db.get(f)?.toString()).toBe(name);
      }
    }
    expect(db.stats().keys).toBe(names.length);
    for (const f of forms('ab')) {
      expect(keysHex(db.keys({ gte: f }))).toEqual(keysHex(db.keys({ gte: 'ab' })));
      expect(keysHex(db.keys({ prefix: f }))).toEqual([hex(b('ab'))]);
      expect(keysHex(db.keys({ gt: 'a', lte: f }))).toEqual([hex(b('ab'))]);
    }
    // Each form names the same key for writes too.
    for (const [i, f] of forms('ab').entries()) await db.put(f, `v${i}`);
    expect(db.stats().keys).toBe(names.length);
    expect(db.get('ab')?.toString()).toBe('v4');
    expect(await db.cas(new Uint8Array(Buffer.from('ab')), forms('v4')[3]!, 'w')).toBe(true);
    expect(await db.delete(forms('ab')[4]!)).toBe(true);
    expect(db.get('ab')).toBeUndefined();
    // Results are Buffers whatever the input type.
    expect(db.get(new Uint8Array([0x61]))).toBeInstanceOf(Buffer);
    for (const [k, v] of db.range()) {
      expect(k).toBeInstanceOf(Buffer);
      expect(v).toBeInstanceOf(Buffer);
    }
    expectCheck(db);
  });
});

describe('buffers are copies', () => {
  it('changing a returned buffer does not change the store', async () => {
    const db = openStore();
    await Promise.all([db.put('a', 'alpha'), db.put('b', 'beta'), db.put('c', 'gamma')]);
    const v = db.get('a')!;
    v.fill(0x7a);
    expect(db.get('a')?.toString()).toBe('alpha');
    const got = db.get('a')!;
    expect(got).not.toBe(db.get('a'));
    for (const [k, val] of db.range()) {
      k.fill(0x21);
      val.fill(0x21);
    }
    for (const k of db.keys()) k.fill(0x22);
    const snap = db.snapshot();
    snap.get('b')!.fill(0x23);
    for (const [k, val] of snap.range()) {
      k.fill(0x24);
      val.fill(0x24);
    }
    for (const k of snap.keys({ reverse: true })) k.fill(0x25);
    expect(snap.get('b')?.toString()).toBe('beta');
    snap.release();
    expect(pairsHex(db.range())).toEqual(
      [
        ['a', 'alpha'],
        ['b', 'beta'],
        ['c', 'gamma'],
      ].map(([k, x]) => [hex(b(k!)), hex(b(x!))]),
    );
    // Changing a key returned by one iterator does not disturb an iteration in progress.
    const it = db.range();
    const first = it.next().value!;
    first[0].fill(0x7a);
    expect(it.next().value![0].toString()).toBe('b');
    it.return!();
    expectCheck(db);
  });

  it("changing the caller's buffers right after a write call does not change what is written", async () => {
    const db = openStore();
    const k = b('key1');
    const v = b('value1');
    const p = db.put(k, v);
    k.fill(0x30);
    v.fill(0x31);
    await p;
    expect(db.get('key1')?.toString()).toBe('value1');
    expect(db.get(k)).toBeUndefined();

    const u = new Uint8Array(Buffer.from('key2'));
    const uv = new Uint8Array(Buffer.from('value2'));
    const p2 = db.add(u, uv);
    u.fill(0x30);
    uv.fill(0x31);
    expect(await p2).toBe(true);
    expect(db.get('key2')?.toString()).toBe('value2');

    const ek = b('key1');
    const exp = b('value1');
    const nv = b('value1b');
    const p3 = db.cas(ek, exp, nv);
    ek.fill(0x30);
    exp.fill(0x30);
    nv.fill(0x30);
    expect(await p3).toBe(true);
    expect(db.get('key1')?.toString()).toBe('value1b');

    const mk = b('key2');
    const mv = b('value2b');
    const p4 = db.modify(mk, mv);
    mk.fill(0x30);
    mv.fill(0x30);
    expect(await p4).toBe(true);
    expect(db.get('key2')?.toString()).toBe('value2b');

    const k3 = b('key3');
    const v3 = b('value3');
    const k2 = b('key2');
    const ops: BatchOp[] = [
      { type: 'put', key: k3, value: v3 },
      { type: 'del', key: k2 },
    ];
    const p5 = db.batch(ops);
    k3.fill(0x30);
    v3.fill(0x30);
    k2.fill(0x30);
    ops.length = 0;
    await p5;
    expect(db.get('key3')?.toString()).toBe('value3');
    expect(db.get('key2')).toBeUndefined();

    const dk = b('key3');
    const p6 = db.delete(dk);
    dk.fill(0x30);
    expect(await p6).toBe(true);
    const ck = b('key1');
    const ce = b('value1b');
    const p7 = db.cad(ck, ce);
    ck.fill(0x30);
    ce.fill(0x30);
    expect(await p7).toBe(true);
    expect([...db.range()]).toEqual([]);
    expect(db.get(Buffer.alloc(4, 0x30))).toBeUndefined();
    expectCheck(db);
  });

  it("changing a range bound after the iterator was made does not move the bound", async () => {
    const db = openStore();
    await Promise.all(['a', 'b', 'c', 'd'].map((k) => db.put(k, k)));
    const lo = b('b');
    const hi = b('c');
    const it = db.keys({ gte: lo, lte: hi });
    lo.fill(0x61);
    hi.fill(0x64);
    expect([...it].map((k) => k.toString())).toEqual(['b', 'c']);
    expectCheck(db);
  });
});
