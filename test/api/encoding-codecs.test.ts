/**
 * Key and value codecs (src/api/encoding/): round trips, typed refusals on
 * both sides, the size helper, and range options to byte bounds.
 */
import { describe, expect, it } from 'vitest';
import {
  checkEncodedSize,
  decodeTuple,
  encodeTuple,
  keyCodec,
  KEY_ENCODINGS,
  rangeBounds,
  tupleRange,
  valueCodec,
  VALUE_ENCODINGS,
  type KeyEncoding,
  type TupleItem,
  type ValueEncoding,
} from '../../src/api/encoding/index.js';
import { rangeIn } from '../../src/api/input.js';
import { BirchError } from '../../src/errors.js';
import { compareTuples, expectCode, normalize, randomString, randomTuple, relatedTuples, Rng } from './encoding-helpers.js';

/** Not bytes, not strings: refused by 'binary' and 'utf8' alike. */
const NOT_BYTES: [string, unknown][] = [
  ['a number', 1],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
  ['an array', [0x61]],
  ['a boolean', true],
  ['a bigint', 1n],
  ['a symbol', Symbol('k')],
  ['a function', () => 'a'],
  ['an ArrayBuffer', new ArrayBuffer(2)],
  ['a Uint16Array', new Uint16Array(2)],
  ['a String object', new String('a')],
];

/** Bytes that are not UTF-8. */
const NOT_UTF8: [string, Buffer][] = [
  ['a lone continuation byte', Buffer.of(0x80)],
  ['FF', Buffer.of(0x61, 0xff)],
  ['an overlong NUL', Buffer.of(0xc0, 0x80)],
  ['a cut-short sequence', Buffer.of(0xe2, 0x82)],
  ['an encoded surrogate', Buffer.of(0xed, 0xa0, 0x80)],
  ['a code point past U+10FFFF', Buffer.of(0xf4, 0x90, 0x80, 0x80)],
];

describe('encodings by name', () => {
  it('lists the encodings of issue 13', () => {
    expect(KEY_ENCODINGS).toEqual(['binary', 'utf8', 'tuple']);
    expect(VALUE_ENCODINGS).toEqual(['binary', 'utf8', 'json', 'msgpack']);
    for (const e of KEY_ENCODINGS) expect(keyCodec(e).encoding).toBe(e);
    for (const e of VALUE_ENCODINGS) expect(valueCodec(e).encoding).toBe(e);
  });

  it('refuses a name that is not an encoding', () => {
    for (const e of ['json', 'UTF8', 'hex', '', 'toString', '__proto__', 1, undefined, null]) {
      expectCode(() => keyCodec(e as KeyEncoding), 'BIRCH_BAD_ARGUMENT', /keyEncoding must be 'binary', 'utf8', 'tuple'; got/);
    }
    for (const e of ['tuple', 'ascii', 'constructor', {}, 2]) {
      expectCode(() => valueCodec(e as ValueEncoding), 'BIRCH_BAD_ARGUMENT', /valueEncoding must be 'binary', 'utf8', 'json', 'msgpack'; got/);
    }
  });
});

describe("'binary'", () => {
  for (const [what, codec] of [
    ['key', keyCodec('binary')],
    ['value', valueCodec('binary')],
  ] as const) {
    it(`${what}s: bytes and strings in, Buffers out, as birch has always done`, () => {
      const src = Uint8Array.of(0, 1, 0xff);
      const b = codec.encode(src);
      expect(Buffer.isBuffer(b)).toBe(true);
      expect(b.toString('hex')).toBe('0001ff');
      src[0] = 9; // the encoding is a copy
      expect(b[0]).toBe(0);
      expect(codec.encode('h\u00e9').toString('hex')).toBe('68c3a9');
      expect(codec.encode('\ud800').toString('hex')).toBe('efbfbd'); // as Buffer.from: U+FFFD
      expect(codec.decode(b)).toBe(b);
    });

    it.each(NOT_BYTES)(`refuses %s as a ${what}`, (_name, x) => {
      expectCode(() => codec.encode(x as string), 'BIRCH_BAD_ARGUMENT', new RegExp(`^${what} must be a Uint8Array, Buffer or string, got`));
    });
  }
});

describe("'utf8'", () => {
  for (const [what, codec] of [
    ['key', keyCodec('utf8')],
    ['value', valueCodec('utf8')],
  ] as const) {
    it(`${what}s: round-trip any well-formed string, a byte-order mark and NULs included`, () => {
      const r = new Rng(51);
      const strings = ['', '\0', '\ufeff', '\ufeffa', 'a\0b', '\u{10ffff}', ...Array.from({ length: 500 }, () => randomString(r, 12))];
      for (const s of strings) {
        const b = codec.encode(s);
        expect(b.equals(Buffer.from(s, 'utf8'))).toBe(true);
        expect(codec.decode(b)).toBe(s);
      }
    });

    it(`refuses ${what}s that are not strings, or hold a lone surrogate`, () => {
      for (const [, x] of [...NOT_BYTES, ['a Buffer', Buffer.from('a')] as const]) {
        expectCode(() => codec.encode(x as string), 'BIRCH_BAD_ARGUMENT', new RegExp(`^${what} must be a string \\(encoding 'utf8'\\), got`));
      }
      for (const s of ['\ud800', 'a\udc00', '\udc00\ud800', 'x\ud83d']) {
        expectCode(() => codec.encode(s), 'BIRCH_BAD_ARGUMENT', /lone UTF-16 surrogate/);
      }
    });

    it.each(NOT_UTF8)(`reads %s as a corrupt ${what}`, (_name, b) => {
      expectCode(() => codec.decode(b), 'BIRCH_CORRUPT', /is not valid UTF-8/);
    });
  }

  it('keys sort by code point: byte order of the encodings', () => {
    const r = new Rng(52);
    const codec = keyCodec('utf8');
    const codePoints = (s: string): number[] => [...s].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < 2000; i++) {
      const a = randomString(r, 4);
      const b = randomString(r, 4);
      const x = codePoints(a);
      const y = codePoints(b);
      let want = Math.sign(x.length - y.length);
      for (let j = 0; j < Math.min(x.length, y.length); j++) {
        if (x[j] !== y[j]) {
          want = Math.sign(x[j]! - y[j]!);
          break;
        }
      }
      expect(Math.sign(Buffer.compare(codec.encode(a), codec.encode(b)))).toBe(want);
    }
  });
});

describe("'tuple' keys", () => {
  const codec = keyCodec('tuple');

  it('round-trips tuples and reads what encodeTuple writes', () => {
    const r = new Rng(61);
    for (let i = 0; i < 1000; i++) {
      const t = randomTuple(r, 2, 5);
      const b = codec.encode(t);
      expect(b.equals(encodeTuple(t))).toBe(true);
      expect(codec.decode(b)).toEqual(normalize(t));
    }
  });

  it('refuses a key that is not an array, and bytes that are not a tuple', () => {
    for (const [, x] of NOT_BYTES.filter(([n]) => n !== 'an array')) {
      expectCode(() => codec.encode(x as TupleItem[]), 'BIRCH_BAD_ARGUMENT', /^key must be an array \(encoding 'tuple'\), got/);
    }
    expectCode(() => codec.encode('abc' as unknown as TupleItem[]), 'BIRCH_BAD_ARGUMENT', /got a string/);
    expectCode(() => codec.encode([undefined as unknown as TupleItem]), 'BIRCH_BAD_ARGUMENT', /tuple item \[0\] is undefined/);
    expectCode(() => codec.decode(Buffer.from('abc')), 'BIRCH_CORRUPT', /^tuple: /);
  });
});

// --- json -------------------------------------------------------------------------

function randomJson(r: Rng, depth: number): unknown {
  switch (r.int(depth > 0 ? 8 : 6)) {
    case 0:
      return null;
    case 1:
      return r.bool();
    case 2:
      return r.pick([0, 1, -1, 0.5, -1e-7, 2 ** 53, 1e300, Number.MAX_VALUE, Number.MIN_VALUE, Math.floor(r.next() * 1e9)]);
    case 3:
    case 4:
      // JSON escapes lone surrogates, so they round-trip.
      return r.bool(0.1) ? `${randomString(r, 3)}\ud800` : randomString(r, 8);
    case 5:
      return r.pick(['', '"', '\\', '\u2028', '</script>', '\ufeff']);
    case 6:
      return Array.from({ length: r.range(0, 4) }, () => randomJson(r, depth - 1));
    default: {
      const o: Record<string, unknown> = r.bool(0.2) ? Object.create(null) as Record<string, unknown> : {};
      for (let n = r.range(0, 4); n > 0; n--) {
        // An own "__proto__" key, as JSON.parse makes (o.__proto__ = x would set the prototype).
        const key = r.bool(0.1) ? '__proto__' : randomString(r, 4);
        Object.defineProperty(o, key, { value: randomJson(r, depth - 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

describe("'json' values", () => {
  const codec = valueCodec('json');

  it('round-trips JSON values', () => {
    const r = new Rng(71);
    for (let i = 0; i < 2000; i++) {
      const v = randomJson(r, 3);
      const back = codec.decode(codec.encode(v));
      expect(back).toEqual(JSON.parse(JSON.stringify(v)));
      expect(JSON.stringify(back)).toBe(JSON.stringify(v));
    }
    expect(codec.encode({ a: [1, 'x', null, true] }).toString()).toBe('{"a":[1,"x",null,true]}');
  });

  it('follows toJSON, as JSON.stringify does', () => {
    expect(codec.decode(codec.encode({ at: new Date(0) }))).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    expect(codec.decode(codec.encode(Buffer.of(1, 2)))).toEqual({ type: 'Buffer', data: [1, 2] });
    expect(codec.decode(codec.encode({ toJSON: () => 'me' }))).toBe('me');
  });

  class Point {
    constructor(readonly x: number) {}
  }
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const REFUSED: [string, unknown, RegExp][] = [
    ['undefined', undefined, /^value is undefined/],
    ['a function', () => 1, /^value is a function/],
    ['a symbol', Symbol('s'), /^value is a symbol/],
    ['undefined in an object', { a: 1, b: undefined }, /value at key "b" is undefined, which JSON cannot hold \(it would be dropped\)/],
    ['undefined in an array', [1, undefined], /value at key "1" is undefined/],
    ['a hole in an array', [1, , 3], /value at key "1" is undefined/], // eslint-disable-line no-sparse-arrays
    ['a function in an object', { f: () => 1 }, /key "f" is a function/],
    ['NaN', { n: NaN }, /key "n" is NaN, which JSON cannot hold \(it would be written as null\)/],
    ['Infinity', [-Infinity], /is -Infinity/],
    ['a bigint', { big: 1n }, /key "big" is the bigint 1n, which JSON cannot hold/],
    ['a Map', { m: new Map([[1, 2]]) }, /key "m" is an instance of Map, which JSON would not read back as itself/],
    ['a Set', new Set([1]), /^value is an instance of Set/],
    ['a class instance', { p: new Point(1) }, /key "p" is an instance of Point/],
    ['a Uint8Array', new Uint8Array(2), /instance of Uint8Array/],
    ['a circular object', circular, /^value cannot be encoded as JSON: .*circular/i],
    ['a toJSON that throws', { toJSON: () => { throw new Error('no'); } }, /^value cannot be encoded as JSON: no/],
  ];
  it.each(REFUSED)('refuses %s with BIRCH_BAD_ARGUMENT naming it', (_name, v, message) => {
    expectCode(() => codec.encode(v), 'BIRCH_BAD_ARGUMENT', message);
  });

  it('reads bytes that are not UTF-8 JSON as corrupt', () => {
    for (const text of ['', '{', '[1,]', 'undefined', "{'a':1}", 'NaN', '1 2', '"\\x"']) {
      expectCode(() => codec.decode(Buffer.from(text)), 'BIRCH_CORRUPT', /^value \(encoding 'json'\) is not JSON/);
    }
    for (const [, b] of NOT_UTF8) expectCode(() => codec.decode(Buffer.concat([Buffer.from('"'), b, Buffer.from('"')])), 'BIRCH_CORRUPT', /not valid UTF-8/);
  });
});

// --- msgpack ---------------------------------------------------------------------

function randomMsgpack(r: Rng, depth: number): unknown {
  switch (r.int(depth > 0 ? 10 : 8)) {
    case 0:
      return null;
    case 1:
      return r.bool();
    case 2:
      return r.pick([0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, 0.5, -1e-300, NaN, Infinity, -Infinity, 2 ** 70]);
    case 3:
      return r.pick([0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 12345678901234567890n]);
    case 4:
      return randomString(r, r.bool(0.2) ? 80 : 8); // past 50 and 200 code units the library switches UTF-8 paths
    case 5:
      return Uint8Array.from(r.bytes(r.range(0, 6)));
    case 6:
      return new Date(r.pick([0, -1, 1, Date.UTC(2030, 0, 1, 0, 0, 0, 123), -62135596800000, 8.64e15, -8.64e15]));
    case 7:
      return '';
    case 8:
      return Array.from({ length: r.range(0, 4) }, () => randomMsgpack(r, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let n = r.range(0, 4); n > 0; n--) o[randomString(r, 4)] = randomMsgpack(r, depth - 1);
      return o;
    }
  }
}

/** What a msgpack value reads back as: Buffers as Uint8Arrays. */
function msgpackNormal(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(msgpackNormal);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, msgpackNormal(x)]));
  }
  return v;
}

describe("'msgpack' values", () => {
  const codec = valueCodec('msgpack');

  it('round-trips values, numbers as numbers and bigints as bigints', () => {
    const r = new Rng(81);
    for (let i = 0; i < 3000; i++) {
      const v = randomMsgpack(r, 3);
      expect(codec.decode(codec.encode(v)), `value ${i}`).toEqual(msgpackNormal(v));
    }
    for (const n of [5, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, 2 ** 64]) expect(codec.decode(codec.encode(n))).toBe(n);
    for (const n of [5n, 0n, -(2n ** 63n), 2n ** 64n - 1n]) expect(codec.decode(codec.encode(n))).toBe(n);
    expect(codec.decode(codec.encode(-0))).toBe(0); // documented: -0 comes back as 0
  });

  it('returns byte strings that are not views of the stored bytes', () => {
    const stored = codec.encode({ b: Uint8Array.of(1, 2, 3) });
    const v = codec.decode(stored) as { b: Uint8Array };
    stored.fill(0);
    expect([...v.b]).toEqual([1, 2, 3]);
  });

  class Point {
    constructor(readonly x: number) {}
  }
  const circular: unknown[] = [1];
  circular.push({ back: circular });
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  const REFUSED: [string, unknown, RegExp][] = [
    ['undefined', undefined, /^value is undefined, which msgpack cannot hold \(it would come back as null\)/],
    ['undefined in an object', { a: { b: undefined } }, /^value\.a\.b is undefined/],
    ['a hole in an array', [1, , 2], /^value\[1\] is undefined/], // eslint-disable-line no-sparse-arrays
    ['a function', { 'f g': () => 1 }, /^value\["f g"\] is a function/],
    ['a symbol', [Symbol('s')], /^value\[0\] is a symbol/],
    ['a bigint past 2^64 - 1', 2n ** 64n, /outside the 64-bit integers msgpack holds/],
    ['a bigint below -2^63', -(2n ** 63n) - 1n, /outside the 64-bit integers/],
    ['a Map', new Map(), /^value is an instance of Map; msgpack values are/],
    ['a Set', { s: new Set() }, /^value\.s is an instance of Set/],
    ['a class instance', [new Point(1)], /instance of Point/],
    ['a Float64Array', new Float64Array(1), /instance of Float64Array/],
    ['an invalid Date', new Date(NaN), /is an invalid Date/],
    ['a lone surrogate', { s: 'a\ud800' }, /^value\.s is a string with a lone UTF-16 surrogate/],
    ['a lone surrogate in a key', { ['\udc00']: 1 }, /is a key with a lone UTF-16 surrogate/],
    ['a __proto__ key', JSON.parse('{"__proto__": 1}') as unknown, /"__proto__" key/],
    ['a circular value', circular, /^value\[1\]\.back contains itself/],
    ['nesting past 256', deep, /nested more than 256 deep/],
  ];
  it.each(REFUSED)('refuses %s with BIRCH_BAD_ARGUMENT naming it', (_name, v, message) => {
    expectCode(() => codec.encode(v), 'BIRCH_BAD_ARGUMENT', message);
  });

  const CORRUPT: [string, string][] = [
    ['no bytes', ''],
    ['the unused byte c1', 'c1'],
    ['a string cut short', 'a3 61 62'],
    ['a string that is not UTF-8', 'a2 c0 80'],
    ['a str 8 that is not UTF-8', 'd9 01 ff'],
    ['a map key that is not UTF-8', '81 a1 ff 01'],
    ['bytes after the value', '01 02'],
    ['an array short of elements', '93 01 02'],
    ['a map short of a value', '81 a1 61'],
    ['an array 32 claiming 4 billion elements', 'dd ff ff ff ff 01'],
    ['a bin 32 claiming 4 GiB', 'c6 ff ff ff ff 00'],
    ['a header cut short', 'cd 01'],
    ['a str 16 header cut short', 'da 00'],
    ['a timestamp of the wrong length', 'd5 ff 00 00'],
    ['a map key that is an array', '81 90 01'],
    ['a __proto__ key', '81 a9 5f 5f 70 72 6f 74 6f 5f 5f 01'],
  ];
  it.each(CORRUPT)('reads %s as corrupt', (_name, h) => {
    expectCode(() => codec.decode(Buffer.from(h.replace(/ /g, ''), 'hex')), 'BIRCH_CORRUPT', /^value \(encoding 'msgpack'\)/);
  });

  it('either refuses bytes or decodes them (never another error)', () => {
    const r = new Rng(82);
    let decoded = 0;
    for (let i = 0; i < 20000; i++) {
      let b: Buffer;
      if (r.bool()) b = r.bytes(r.range(0, 10));
      else {
        const v = [...codec.encode(randomMsgpack(r, 2))];
        const at = r.int(v.length + 1);
        if (r.bool()) v[at] = r.int(256);
        else v.length = at;
        b = Buffer.from(v);
      }
      try {
        codec.decode(b);
        decoded++;
      } catch (e) {
        expect(e instanceof BirchError && e.code === 'BIRCH_CORRUPT', `${b.toString('hex')}: ${String(e)}`).toBe(true);
      }
    }
    expect(decoded).toBeGreaterThan(2000);
  });
});

// --- size -------------------------------------------------------------------------

describe('checkEncodedSize', () => {
  it('passes an encoding within the limit through', () => {
    const b = Buffer.alloc(255);
    expect(checkEncodedSize(b, 'key', 255)).toBe(b);
    expect(checkEncodedSize(Buffer.alloc(0), 'value', 0).length).toBe(0);
  });

  it('refuses one past it, naming the encoded size and the limit', () => {
    expectCode(() => checkEncodedSize(Buffer.alloc(256), 'key', 255), 'BIRCH_KEY_TOO_LARGE', /key encodes to 256 bytes, more than the limit of 255/);
    expectCode(() => checkEncodedSize(Buffer.alloc(300), 'value', 255), 'BIRCH_VALUE_TOO_LARGE', /value encodes to 300 bytes, more than the limit of 255/);
    // A table prefix takes part of the key's 255 bytes.
    expectCode(() => checkEncodedSize(encodeTuple(['x'.repeat(250)]), 'key', 250), 'BIRCH_KEY_TOO_LARGE', /252 bytes.*limit of 250/);
    const json = valueCodec('json').encode({ text: 'é'.repeat(200) });
    expectCode(() => checkEncodedSize(json, 'value', 255), 'BIRCH_VALUE_TOO_LARGE', new RegExp(`${json.length} bytes`));
  });
});

// --- bounds -----------------------------------------------------------------------

describe('rangeBounds', () => {
  const binary = keyCodec('binary');
  const utf8 = keyCodec('utf8');
  const tuple = keyCodec('tuple');
  const h = (b: Buffer | undefined): string | undefined => b?.toString('hex');
  const show = (o: Record<string, Buffer | undefined>): Record<string, string | undefined> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, h(v)]));

  it('encodes each bound as a key of the encoding', () => {
    expect(rangeBounds(binary, undefined)).toEqual({});
    expect(rangeBounds(binary, { reverse: true, limit: 3 })).toEqual({});
    expect(show(rangeBounds(binary, { gt: 'a', lte: Buffer.of(0x62) }))).toEqual({ gt: '61', lte: '62' });
    expect(show(rangeBounds(utf8, { gte: 'é', lt: 'z' }))).toEqual({ gte: 'c3a9', lt: '7a' });
    expect(show(rangeBounds(tuple, { gte: ['user', 42], lte: ['user', 43] }))).toEqual({
      gte: encodeTuple(['user', 42]).toString('hex'),
      lte: encodeTuple(['user', 43]).toString('hex'),
    });
  });

  it('turns a prefix into its encoding\'s bounds', () => {
    expect(show(rangeBounds(binary, { prefix: 'ab' }))).toEqual({ gte: '6162', lt: '6163' });
    expect(show(rangeBounds(binary, { prefix: Buffer.of(0x61, 0xff, 0xff) }))).toEqual({ gte: '61ffff', lt: '62' });
    expect(show(rangeBounds(binary, { prefix: Buffer.of(0xff) }))).toEqual({ gte: 'ff' });
    expect(show(rangeBounds(binary, { prefix: '' }))).toEqual({ gte: '' });
    expect(show(rangeBounds(utf8, { prefix: 'é' }))).toEqual({ gte: 'c3a9', lt: 'c3aa' });
    const { gte, lt } = tupleRange(['user', 42]);
    expect(show(rangeBounds(tuple, { prefix: ['user', 42] }))).toEqual({ gte: h(gte), lt: h(lt) });
    expect(show(rangeBounds(tuple, { prefix: [] }))).toEqual({ gte: '00', lt: 'ff' });
  });

  it('keeps the tightest bound on each side', () => {
    expect(show(rangeBounds(binary, { gt: 'b', gte: 'a', lt: 'y', lte: 'z' }))).toEqual({ gt: '62', lt: '79' });
    expect(show(rangeBounds(binary, { gt: 'a', gte: 'b', lte: 'y', lt: 'z' }))).toEqual({ gte: '62', lte: '79' });
    expect(show(rangeBounds(binary, { gt: 'a', gte: 'a', lt: 'z', lte: 'z' }))).toEqual({ gt: '61', lt: '7a' });
    expect(show(rangeBounds(binary, { prefix: 'ab', gte: 'aa', lte: 'zz' }))).toEqual({ gte: '6162', lt: '6163' });
    expect(show(rangeBounds(binary, { prefix: 'ab', gt: 'abc', lt: 'abd' }))).toEqual({ gt: '616263', lt: '616264' });
    const t = rangeBounds(tuple, { prefix: ['user'], gte: ['user', 10] });
    expect(show(t)).toEqual({ gte: encodeTuple(['user', 10]).toString('hex'), lt: tupleRange(['user']).lt.toString('hex') });
    // Crossed bounds: kept, and the range is empty.
    expect(show(rangeBounds(binary, { gt: 'z', lt: 'a' }))).toEqual({ gt: '7a', lt: '61' });
  });

  it('refuses a bound that does not encode, naming the option', () => {
    expectCode(() => rangeBounds(tuple, { gt: 'a' as unknown as TupleItem[] }), 'BIRCH_BAD_ARGUMENT', /^range option gt: key must be an array/);
    expectCode(() => rangeBounds(tuple, { prefix: 'a' as unknown as TupleItem[] }), 'BIRCH_BAD_ARGUMENT', /^range option prefix: prefix must be an array/);
    expectCode(() => rangeBounds(tuple, { lte: [undefined as unknown as TupleItem] }), 'BIRCH_BAD_ARGUMENT', /^range option lte: tuple item \[0\] is undefined/);
    expectCode(() => rangeBounds(utf8, { lt: Buffer.from('a') as unknown as string }), 'BIRCH_BAD_ARGUMENT', /^range option lt: key must be a string/);
    expectCode(() => rangeBounds(binary, { gte: 1 as unknown as string }), 'BIRCH_BAD_ARGUMENT', /^range option gte: key must be a Uint8Array/);
    expectCode(() => rangeBounds(binary, 'a' as never), 'BIRCH_BAD_ARGUMENT', /range options must be an object/);
  });

  it("feeds the store's own range options (rangeIn) unchanged", () => {
    const bounds = rangeBounds(tuple, { prefix: ['user'], gt: ['user', 1] });
    const r = rangeIn({ ...bounds, reverse: true, limit: 5 }, { keyspace: 0, prefix: new Uint8Array(0) });
    // Bounds on sort keys: the store's keyspace byte (0), then the key.
    expect(h(r.lo?.key)).toBe('00' + encodeTuple(['user', 1]).toString('hex'));
    expect(r.lo?.inclusive).toBe(false);
    expect(h(r.hi?.key)).toBe('00' + tupleRange(['user']).lt.toString('hex'));
    expect(r.hi?.inclusive).toBe(false);
    expect(r.reverse).toBe(true);
    expect(r.limit).toBe(5);
  });

  /** Whether byte string `k` is within `b`. */
  const within = (k: Buffer, b: ReturnType<typeof rangeBounds>): boolean =>
    (b.gt === undefined || k.compare(b.gt) > 0) &&
    (b.gte === undefined || k.compare(b.gte) >= 0) &&
    (b.lt === undefined || k.compare(b.lt) < 0) &&
    (b.lte === undefined || k.compare(b.lte) <= 0);

  it('tuple prefix ranges hold exactly the tuples that extend the prefix', () => {
    const r = new Rng(91);
    const keys = relatedTuples(r, 800);
    for (let i = 0; i < 80; i++) {
      const base = r.pick(keys);
      const prefix = base.slice(0, r.int(base.length + 1));
      const bounds = rangeBounds(tuple, { prefix });
      for (const k of keys) {
        const inRange = within(tuple.encode(k), bounds);
        const extension = k.length > prefix.length && compareTuples(k.slice(0, prefix.length), prefix) === 0;
        if (inRange !== extension) expect.fail(`prefix ${JSON.stringify(prefix, big)}: ${JSON.stringify(k, big)} in range: ${inRange}`);
      }
    }
  });

  it('tuple gt/lt bounds hold exactly the tuples between them in tuple order', () => {
    const r = new Rng(92);
    const keys = relatedTuples(r, 600);
    for (let i = 0; i < 60; i++) {
      const a = r.pick(keys);
      const b = r.pick(keys);
      const bounds = rangeBounds(tuple, { gt: a, lte: b });
      for (const k of keys) {
        const want = compareTuples(k, a) > 0 && compareTuples(k, b) <= 0;
        expect(within(tuple.encode(k), bounds)).toBe(want);
      }
      // And the decoded keys come back as what was put.
      for (const k of keys.slice(0, 20)) expect(decodeTuple(tuple.encode(k))).toEqual(normalize(k));
    }
  });

  it('byte prefixes hold exactly the keys that start with them', () => {
    const r = new Rng(93);
    const keys = Array.from({ length: 500 }, () => Buffer.from(Array.from({ length: r.range(0, 4) }, () => r.pick([0x00, 0x61, 0x62, 0xfe, 0xff]))));
    for (let i = 0; i < 100; i++) {
      const prefix = r.pick(keys).subarray(0, r.range(0, 3));
      const bounds = rangeBounds(binary, { prefix });
      for (const k of keys) expect(within(k, bounds), `${k.toString('hex')} / ${prefix.toString('hex')}`).toBe(k.subarray(0, prefix.length).equals(prefix));
    }
    for (let i = 0; i < 200; i++) {
      const s = randomString(r, 3);
      const prefix = [...s].slice(0, r.range(0, 2)).join('');
      const k = utf8.encode(s);
      expect(within(k, rangeBounds(utf8, { prefix }))).toBe(true);
    }
  });
});

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
