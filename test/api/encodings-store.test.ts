/**
 * Key and value encodings through the store and its tables (issue 13):
 * every combination round-trips through get, range, keys, snapshots and
 * batches, at open() and per table, and across a reopen; tuple keys come
 * back in tuple order and tuple bounds (prefix, gt, gte, lt, lte, reverse,
 * limit) select exactly what a plain model sorted by tuple order selects;
 * what cannot be encoded, or encodes too large, is refused with a typed
 * error naming the size before anything is queued; and bytes that do not
 * decode in the encoding they are read with give a typed error, never a
 * wrong value.
 */
import { describe, expect, it } from 'vitest';
import { BirchError, encodeTuple, type KeyEncoding, type Store, type TupleItem, type ValueEncoding } from '../../src/index.js';
import { openAs, rejectsCall, throws } from './datamodel-util.js';
import { compareTuples, normalize, randomBytes, randomInteger, randomString, Rng } from './encoding-helpers.js';
import { expectCheck, openStore, tmp } from './util.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/** Sample keys of each key encoding, with a comparator for their order. */
const KEYS: { [E in KeyEncoding]: { keys: unknown[]; order: (a: Any, b: Any) => number } } = {
  binary: {
    keys: [Buffer.alloc(0), Buffer.of(0), Buffer.of(0xff, 0x00), Buffer.from('key'), Buffer.alloc(200, 7)],
    order: (a: Buffer, b: Buffer) => Buffer.compare(a, b),
  },
  utf8: {
    keys: ['', '\0', 'a', 'a\0', 'é', 'z', '😀', '表', 'x'.repeat(200)],
    order: (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)),
  },
  tuple: {
    keys: [[], [null], [false], [true], ['user', 42], ['user', 42, 'x'], ['user', -1], ['user', 2n ** 70n], [Buffer.of(0, 0xff)], [['nested', null], 1.5], [-0.25], ['user']],
    order: (a: TupleItem[], b: TupleItem[]) => compareTuples(a, b),
  },
};

/** Sample values of each value encoding, and what they read back as. */
const VALUES: { [E in ValueEncoding]: Array<[unknown, unknown]> } = {
  binary: [
    [Buffer.alloc(0), Buffer.alloc(0)],
    [Buffer.of(0, 0xff, 0x80), Buffer.of(0, 0xff, 0x80)],
    ['text', Buffer.from('text')],
    [new Uint8Array([1, 2, 3]), Buffer.of(1, 2, 3)],
  ],
  utf8: [
    ['', ''],
    ['hello', 'hello'],
    ['日本語 😀 \0', '日本語 😀 \0'],
  ],
  json: [
    [null, null],
    [0, 0],
    [-1.5e300, -1.5e300],
    ['', ''],
    [true, true],
    [[1, 'two', [3], { four: 4 }], [1, 'two', [3], { four: 4 }]],
    [{ name: 'Alice', tags: ['a', 'b'], nested: { deep: [null, false] } }, { name: 'Alice', tags: ['a', 'b'], nested: { deep: [null, false] } }],
    [new Date(0), '1970-01-01T00:00:00.000Z'],
  ],
  msgpack: [
    [null, null],
    [42, 42],
    [-(2 ** 40), -(2 ** 40)],
    [0.1, 0.1],
    [2n ** 63n - 1n, 2n ** 63n - 1n],
    ['str', 'str'],
    [new Uint8Array([0, 255]), new Uint8Array([0, 255])],
    [{ a: [1, { b: 'c' }], d: true }, { a: [1, { b: 'c' }], d: true }],
    [new Date(86_400_000), new Date(86_400_000)],
  ],
};

const KEY_ENCODINGS: KeyEncoding[] = ['binary', 'utf8', 'tuple'];
const VALUE_ENCODINGS: ValueEncoding[] = ['binary', 'utf8', 'json', 'msgpack'];

/** A reader or writer of any encodings, untyped (the combinations are data here). */
interface RW {
  get(k: Any): Any;
  range(o?: Any): IterableIterator<[Any, Any]>;
  keys(o?: Any): IterableIterator<Any>;
}

function pairsOf(n: number, ke: KeyEncoding, ve: ValueEncoding): Array<{ key: unknown; value: unknown; back: unknown }> {
  const keys = KEYS[ke].keys;
  const values = VALUES[ve];
  return keys.slice(0, n).map((key, i) => ({ key, value: values[i % values.length]![0], back: values[i % values.length]![1] }));
}

function expectReads(r: RW, ke: KeyEncoding, want: Array<{ key: unknown; back: unknown }>): void {
  const sorted = [...want].sort((a, b) => KEYS[ke].order(a.key, b.key));
  const norm = (k: unknown): unknown => (ke === 'tuple' ? (k as TupleItem[]).map(normalize) : ke === 'binary' ? Buffer.from(k as Uint8Array) : k);
  for (const { key, back } of want) expect(r.get(key)).toEqual(back);
  expect([...r.keys()]).toEqual(sorted.map((p) => norm(p.key)));
  expect([...r.range()]).toEqual(sorted.map((p) => [norm(p.key), p.back]));
  expect([...r.range({ reverse: true, limit: 3 })]).toEqual(
    [...sorted]
      .reverse()
      .slice(0, 3)
      .map((p) => [norm(p.key), p.back]),
  );
}

describe('every combination of encodings round-trips', () => {
  for (const ke of KEY_ENCODINGS) {
    for (const ve of VALUE_ENCODINGS) {
      it(`keyEncoding '${ke}', valueEncoding '${ve}': store and table, live, snapshot, batch, reopen`, async () => {
        const dir = tmp();
        let db = openAs(dir, { keyEncoding: ke, valueEncoding: ve }) as Any as Store<Any, Any, Any, Any>;
        const n = KEYS[ke].keys.length;
        const want = pairsOf(n, ke, ve);
        const half = Math.floor(n / 2);
        // The store's own keys: puts for half, a batch for the rest.
        for (const p of want.slice(0, half)) await db.put(p.key, p.value);
        await db.batch(want.slice(half).map((p) => ({ type: 'put', key: p.key, value: p.value })));
        // A table with the same encodings, filled by a store batch naming it, and one with other encodings.
        const t = db.table('t', { keyEncoding: ke, valueEncoding: ve }) as Any as Store<Any, Any, Any, Any>;
        await db.batch(want.map((p) => ({ type: 'put', table: t, key: p.key, value: p.value }) as Any));
        const plain = db.table('plain');
        await plain.put('k', 'v');
        expectReads(db as Any, ke, want);
        expectReads(t as Any, ke, want);
        const snap = db.snapshot();
        expectReads(snap as Any, ke, want);
        expectReads(snap.table('t', { keyEncoding: ke, valueEncoding: ve }) as Any, ke, want);
        // Overwrite one, delete one: the snapshot keeps the old view.
        const [first, second] = want;
        await db.put(first!.key, want[want.length - 1]!.value);
        await db.delete(second!.key);
        expect(db.get(first!.key)).toEqual(want[want.length - 1]!.back);
        expect(db.get(second!.key)).toBeUndefined();
        expectReads(snap as Any, ke, want);
        snap.release();
        await db.put(first!.key, first!.value);
        await db.put(second!.key, second!.value);
        await db.close();
        db = openAs(dir, { keyEncoding: ke, valueEncoding: ve }) as Any;
        expectReads(db as Any, ke, want);
        expectReads(db.table('t', { keyEncoding: ke, valueEncoding: ve }) as Any, ke, want);
        expect([...db.table('plain').range()]).toEqual([[Buffer.from('k'), Buffer.from('v')]]);
        expectCheck(db as Any);
      });
    }
  }

  it('conditional writes compare encoded values', async () => {
    const db = openAs(tmp(), { keyEncoding: 'utf8', valueEncoding: 'json' });
    await db.put('k', { a: 1, b: [2] });
    expect(await db.cas('k', { a: 1, b: [2] }, { a: 2 })).toBe(true);
    expect(await db.cas('k', { a: 1 }, { a: 3 })).toBe(false);
    expect(await db.cad('k', { a: 2 })).toBe(true);
    expect(await db.add('k', null)).toBe(true);
    expect(db.get('k')).toBeNull(); // a stored null, not an absent key
    expect(await db.add('k', 1)).toBe(false);
    expect(await db.modify('k', 'now a string')).toBe(true);
    expect(db.get('k')).toBe('now a string');
  });

  it('encodings are per handle: the same bytes read through tables of other encodings', async () => {
    const db = openStore();
    await db.table('t', { keyEncoding: 'utf8', valueEncoding: 'json' }).put('k', { x: 'y' });
    const raw = db.table('t');
    expect([...raw.range()]).toEqual([[Buffer.from('k'), Buffer.from('{"x":"y"}')]]);
    const text = db.table('t', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    expect(text.get('k')).toBe('{"x":"y"}');
  });
});

describe('tuple keys: order and bounds against a model sorted by tuple order', () => {
  /** A tuple item that is never NaN (the model's order cannot tell NaN payloads apart). */
  function item(r: Rng, depth: number): TupleItem {
    switch (r.int(depth > 0 ? 10 : 9)) {
      case 0:
        return null;
      case 1:
        return r.bool();
      case 2:
        return randomBytes(r, 4);
      case 3:
      case 4:
        return r.pick(['', 'a', 'ab', 'b', 'user', 'é', '\0', randomString(r, 3)]);
      case 5:
        return r.range(-3, 3);
      case 6:
        return randomInteger(r);
      case 7:
        return r.pick([-0.5, 0.5, 1.5, -0, 1e300, -Infinity, Infinity, 3.25]);
      case 8:
        return r.pick([0, 1, 2, 255, 256, -256]);
      default:
        return tuple(r, depth - 1, 2);
    }
  }
  function tuple(r: Rng, depth: number, max: number): TupleItem[] {
    const t: TupleItem[] = [];
    for (let n = r.range(0, max); n > 0; n--) t.push(item(r, depth));
    return t;
  }

  it('range with prefix, gt, gte, lt, lte, reverse and limit returns exactly the model\'s keys, in tuple order', async () => {
    const r = new Rng(13013);
    const db = openStore();
    const t = db.table('tuples', { keyEncoding: 'tuple', valueEncoding: 'json' });
    const byHex = new Map<string, TupleItem[]>();
    // Related tuples: shared leading items, so bounds and prefixes cut through runs of equal items.
    const heads: TupleItem[][] = Array.from({ length: 12 }, () => tuple(r, 1, 2));
    while (byHex.size < 400) {
      const base = r.bool(0.8) ? [...r.pick(heads)] : [];
      const tt = [...base, ...tuple(r, 1, 3)];
      const k = encodeTuple(tt);
      if (k.length <= 254) byHex.set(k.toString('hex'), tt);
    }
    const all = [...byHex.entries()];
    for (let i = 0; i < all.length; i += 100) {
      await t.batch(all.slice(i, i + 100).map(([, tt], j) => ({ type: 'put' as const, key: tt, value: i + j })));
    }
    const model = [...byHex.values()].sort(compareTuples);
    const norm = (ts: TupleItem[][]): TupleItem[][] => ts.map((x) => x.map(normalize));
    expect([...t.keys()]).toEqual(norm(model));
    // Values say which key they were put under: the keys decode to the tuples that made them.
    for (const [k, v] of t.range()) expect(encodeTuple(k).toString('hex')).toBe(all[v as number]![0]);

    const pickBound = (): TupleItem[] => {
      const x = r.pick(model);
      switch (r.int(4)) {
        case 0:
          return x;
        case 1:
          return x.slice(0, r.int(x.length + 1));
        case 2:
          return [...x.slice(0, r.int(x.length + 1)), item(r, 0)];
        default:
          return tuple(r, 1, 2);
      }
    };
    let nonEmpty = 0;
    for (let q = 0; q < 250; q++) {
      const opts: Any = {};
      if (r.bool(0.4)) opts.prefix = r.pick(model).slice(0, r.int(3));
      if (r.bool(0.4)) opts[r.bool() ? 'gt' : 'gte'] = pickBound();
      if (r.bool(0.4)) opts[r.bool() ? 'lt' : 'lte'] = pickBound();
      if (r.bool(0.3)) opts.reverse = true;
      if (r.bool(0.3)) opts.limit = r.int(20);
      let want = model.filter(
        (k) =>
          (opts.gt === undefined || compareTuples(k, opts.gt) > 0) &&
          (opts.gte === undefined || compareTuples(k, opts.gte) >= 0) &&
          (opts.lt === undefined || compareTuples(k, opts.lt) < 0) &&
          (opts.lte === undefined || compareTuples(k, opts.lte) <= 0) &&
          (opts.prefix === undefined || (k.length > opts.prefix.length && compareTuples(k.slice(0, opts.prefix.length), opts.prefix) === 0)),
      );
      if (opts.reverse === true) want = [...want].reverse();
      if (opts.limit !== undefined) want = want.slice(0, opts.limit);
      expect([...t.keys(opts)], JSON.stringify(opts, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toEqual(norm(want));
      if (want.length > 0 && want.length < model.length) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(100); // the bounds cut through the keys, not around them
    expectCheck(db);
  });

  it('range({ prefix: [\'user\', 42] }) selects the tuples under it and not the prefix itself', async () => {
    const db = openAs(tmp(), { keyEncoding: 'tuple', valueEncoding: 'utf8' });
    const keys: TupleItem[][] = [
      ['user', 41, 'z'],
      ['user', 42],
      ['user', 42, 'a'],
      ['user', 42, 'b', 1],
      ['user', 42, null],
      ['user', 42, ['nested']],
      ['user', 43],
      ['user', 420],
      ['users', 42, 'a'],
      ['user', 42n * 10n ** 20n],
    ];
    await db.batch(keys.map((k) => ({ type: 'put', key: k, value: JSON.stringify(k, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) })));
    expect([...db.keys({ prefix: ['user', 42] })]).toEqual([['user', 42, null], ['user', 42, 'a'], ['user', 42, 'b', 1], ['user', 42, ['nested']]]);
    expect([...db.keys({ prefix: ['user', 42], reverse: true, limit: 2 })]).toEqual([['user', 42, ['nested']], ['user', 42, 'b', 1]]);
    expect([...db.keys({ gte: ['user', 42], lt: ['user', 43] })].length).toBe(5);
    expect([...db.keys({ gt: ['user', 42, 'a'], lte: ['user', 420] })]).toEqual([['user', 42, 'b', 1], ['user', 42, ['nested']], ['user', 43], ['user', 420]]);
    // Integers sort by value, not by their digits.
    expect([...db.keys({ prefix: ['user'] })].map((k) => k[1])).toEqual([41, 42, 42, 42, 42, 42, 43, 420, 42n * 10n ** 20n]);
  });
});

describe('what cannot be stored is refused before anything is queued', () => {
  /** Committed requests so far: a refused call must add none. */
  const requests = (db: { stats(): { requests: number } }): number => db.stats().requests;

  it('keys that do not encode: BIRCH_BAD_ARGUMENT, on every method', async () => {
    const db = openAs(tmp(), { keyEncoding: 'tuple', valueEncoding: 'json' }) as Any as Store<Any, Any, Any, Any>;
    const u = openAs(tmp(), { keyEncoding: 'utf8', valueEncoding: 'utf8' }) as Any as Store<Any, Any, Any, Any>;
    await db.put(['ok'], 1);
    const r0 = requests(db);
    const badTuples: unknown[] = ['not an array', [undefined], [{}], [Symbol('s')], ['\uD800'], [new Uint16Array(2)], [() => 1], [2n ** 2100n]];
    for (const k of badTuples) {
      await rejectsCall(() => db.put(k, 1), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.add(k, 1), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.modify(k, 1), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.cas(k, 1, 2), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.cad(k, 1), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.delete(k), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.incr(k), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.append(k, 'x'), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.expire(k, 10), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.persist(k), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.batch([{ type: 'put', key: ['fine'], value: 1 }, { type: 'put', key: k, value: 1 }]), 'BIRCH_BAD_ARGUMENT');
      throws(() => db.get(k), 'BIRCH_BAD_ARGUMENT');
      throws(() => db.ttl(k), 'BIRCH_BAD_ARGUMENT');
      throws(() => db.range({ gt: k }), 'BIRCH_BAD_ARGUMENT');
      throws(() => db.keys({ prefix: k }), 'BIRCH_BAD_ARGUMENT');
    }
    for (const k of [42, Buffer.from('bytes'), '\uDC00x', null, ['a']]) {
      await rejectsCall(() => u.put(k, 'v'), 'BIRCH_BAD_ARGUMENT');
      throws(() => u.get(k), 'BIRCH_BAD_ARGUMENT');
    }
    expect(requests(db)).toBe(r0);
    expect([...db.keys()]).toEqual([['ok']]);
    expect([...db.keys({ gte: ['fine'], lte: ['fine'] })]).toEqual([]);
    expect([...u.keys()]).toEqual([]);
  });

  it('values that do not encode: BIRCH_BAD_ARGUMENT, in every value encoding', async () => {
    const cases: Array<[ValueEncoding, unknown[]]> = [
      ['binary', [42, null, undefined, {}, [1]]],
      ['utf8', [42, Buffer.from('x'), null, 'lone \uD800']],
      ['json', [undefined, () => 1, 1n, NaN, Infinity, new Map(), new Set([1]), Symbol('s'), { a: undefined }, [NaN]]],
      ['msgpack', [undefined, new Map(), new Set(), Symbol('s'), () => 1, 2n ** 64n, { __proto__: null, x: undefined }, new Uint16Array(1), 'lone \uDC00']],
    ];
    for (const [ve, bad] of cases) {
      const db = openAs(tmp(), { keyEncoding: 'utf8', valueEncoding: ve }) as Any as Store<Any, Any, Any, Any>;
      const t = db.table('t', { valueEncoding: ve }) as Any as Store<Any, Any, Any, Any>;
      const ok = VALUES[ve][1]![0];
      await db.put('k', ok);
      const r0 = requests(db);
      for (const v of bad) {
        await rejectsCall(() => db.put('k', v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.put('new', v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.add('new', v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.modify('k', v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.cas('k', ok, v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.cas('k', v, ok), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.cad('k', v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => t.put(Buffer.from('k'), v), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.batch([{ type: 'put', key: 'new', value: ok }, { type: 'put', key: 'k', value: v }]), 'BIRCH_BAD_ARGUMENT');
        await rejectsCall(() => db.batch([{ type: 'put', table: t as Any, key: Buffer.from('k'), value: v }]), 'BIRCH_BAD_ARGUMENT');
      }
      expect(requests(db), ve).toBe(r0);
      expect(db.get('k')).toEqual(VALUES[ve][1]![1]);
      expect(db.get('new')).toBeUndefined();
      expect(db.tables()).toEqual([]);
    }
  });

  it('keys and values that encode too large: BIRCH_KEY_TOO_LARGE / BIRCH_VALUE_TOO_LARGE naming the encoded size', async () => {
    const db = openAs(tmp(), { keyEncoding: 'tuple', valueEncoding: 'json' }) as Any as Store<Any, Any, Any, Any>;
    const r0 = requests(db);
    // ['x' * n] encodes to n + 2 bytes; a JSON string of n ASCII characters to n + 2.
    await db.put(['x'.repeat(253)], 'x'.repeat(253)); // 255 and 255: fit exactly
    const r1 = requests(db);
    expect(r1).toBe(r0 + 1);
    const key300 = ['k'.repeat(298)];
    let err = await rejectsCall(() => db.put(key300, 1), 'BIRCH_KEY_TOO_LARGE');
    expect(err.message).toMatch(/\b300\b/);
    err = await rejectsCall(() => db.put(['x'.repeat(254)], 1), 'BIRCH_KEY_TOO_LARGE');
    expect(err.message).toMatch(/\b256\b/);
    err = await rejectsCall(() => db.put(['ok'], 'v'.repeat(298)), 'BIRCH_VALUE_TOO_LARGE');
    expect(err.message).toMatch(/\b300\b/);
    err = await rejectsCall(() => db.put(['ok'], { s: 'é'.repeat(130) }), 'BIRCH_VALUE_TOO_LARGE'); // 8 + 260 bytes
    expect(err.message).toMatch(/\b268\b/);
    await rejectsCall(() => db.add(key300, 1), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => db.cas(['ok'], 1, 'v'.repeat(298)), 'BIRCH_VALUE_TOO_LARGE');
    await rejectsCall(() => db.batch([{ type: 'put', key: ['a'], value: 1 }, { type: 'put', key: key300, value: 1 }]), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => db.batch([{ type: 'put', key: ['a'], value: 1 }, { type: 'put', key: ['b'], value: 'v'.repeat(298) }]), 'BIRCH_VALUE_TOO_LARGE');
    throws(() => db.get(key300), 'BIRCH_KEY_TOO_LARGE');
    expect(requests(db)).toBe(r1);
    expect([...db.keys()]).toEqual([['x'.repeat(253)]]);
    // msgpack, in a table: the table's prefix leaves 254 bytes for the key.
    const t = db.table('t', { keyEncoding: 'utf8', valueEncoding: 'msgpack' }) as Any as Store<Any, Any, Any, Any>;
    err = await rejectsCall(() => t.put('k'.repeat(255), 1), 'BIRCH_KEY_TOO_LARGE');
    expect(err.message).toMatch(/\b255\b/);
    err = await rejectsCall(() => t.put('k', Buffer.alloc(260)), 'BIRCH_VALUE_TOO_LARGE'); // bin 16: 3 + 260
    expect(err.message).toMatch(/\b263\b/);
    expect(db.tables()).toEqual([]);
  });
});

describe('bytes that do not decode in the encoding they are read with', () => {
  /** `f()` either throws a typed BirchError (BIRCH_CORRUPT) or never returns at all: never a value. */
  function corrupt(f: () => unknown): void {
    let thrown: unknown;
    let value: unknown;
    try {
      value = f();
    } catch (e) {
      thrown = e;
    }
    expect(thrown, `expected BIRCH_CORRUPT, got the value ${String(value)}`).toBeInstanceOf(BirchError);
    expect((thrown as BirchError).code).toBe('BIRCH_CORRUPT');
  }

  it('values: utf8, json and msgpack readers refuse bytes they never write', async () => {
    const dir = tmp();
    let raw = openStore(dir);
    await raw.batch([
      { type: 'put', key: 'ff', value: Buffer.of(0xff) },
      { type: 'put', key: 'surrogate', value: Buffer.of(0xed, 0xa0, 0x80) }, // UTF-8 of U+D800
      { type: 'put', key: 'json-cut', value: '{"a":' },
      { type: 'put', key: 'json-trailing', value: '1 2' },
      { type: 'put', key: 'mp-c1', value: Buffer.of(0xc1) },
      { type: 'put', key: 'mp-cut', value: Buffer.of(0x92, 0x01) },
      { type: 'put', key: 'mp-str', value: Buffer.of(0xa2, 0xff, 0xfe) },
      { type: 'put', key: 'empty', value: '' },
    ]);
    await raw.close();
    const read = (ve: ValueEncoding): Store<Any, Any, Any, Any> => openAs(dir, { keyEncoding: 'utf8', valueEncoding: ve }) as Any;
    let db = read('utf8');
    corrupt(() => db.get('ff'));
    corrupt(() => db.get('surrogate'));
    corrupt(() => [...db.range()]);
    expect(db.get('empty')).toBe('');
    await db.close();
    db = read('json');
    for (const k of ['ff', 'surrogate', 'json-cut', 'json-trailing', 'mp-c1', 'empty']) corrupt(() => db.get(k));
    corrupt(() => [...db.range({ prefix: 'json' })]);
    await db.close();
    db = read('msgpack');
    for (const k of ['mp-c1', 'mp-cut', 'mp-str', 'empty', 'json-cut']) corrupt(() => db.get(k));
    const snap = db.snapshot();
    corrupt(() => snap.get('mp-cut'));
    snap.release();
    await db.close();
    // A table read with another encoding than it was written with: the same.
    raw = openStore(dir);
    await raw.table('t').put('k', Buffer.of(0xff, 0xfe));
    const tj = raw.table('t', { valueEncoding: 'json' });
    corrupt(() => tj.get('k'));
    corrupt(() => [...tj.range()]);
    corrupt(() => raw.table('t', { valueEncoding: 'utf8' }).get('k'));
    // Keys decoded fine, values not: keys() needs no value decoding.
    expect([...raw.table('t', { keyEncoding: 'utf8', valueEncoding: 'json' }).keys()]).toEqual(['k']);
  });

  it('keys: utf8 and tuple readers refuse key bytes they never write', async () => {
    const dir = tmp();
    const raw = openStore(dir);
    await raw.put(Buffer.of(0x61, 0xff), 'v');
    const t = raw.table('t');
    await t.put(Buffer.of(0x02, 0x61), 'unterminated string'); // tuple: string without its 0x00
    await raw.table('u').put(Buffer.of(0xff), 'no such type code');
    await raw.close();
    const db = openAs(dir, { keyEncoding: 'utf8' });
    corrupt(() => [...db.keys()]);
    corrupt(() => [...db.range()]);
    corrupt(() => [...db.table('t', { keyEncoding: 'tuple' }).keys()]);
    corrupt(() => [...db.table('u', { keyEncoding: 'tuple' }).range()]);
    // Reading by a key that does encode finds nothing there, it does not misread.
    expect(db.get('a')).toBeUndefined();
  });
});
