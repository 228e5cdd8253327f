/**
 * The tuple layer encoding (src/api/encoding/tuple.ts): FoundationDB's
 * published bytes, round trips, the order property (byte order of encoded
 * tuples equals the spec's tuple order), strict decoding, typed refusals.
 */
import { describe, expect, it } from 'vitest';
import { decodeTuple, encodeTuple, tupleRange, type TupleItem } from '../../src/api/encoding/index.js';
import { BirchError } from '../../src/errors.js';
import {
  compareTuples,
  expectCode,
  hex,
  normalize,
  randomTuple,
  relatedTuples,
  Rng,
} from './encoding-helpers.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);
const FF = 0xff;

/** [tuple, its bytes]: encoded exactly so, and decoded back to normalize(tuple). */
type Vector = [string, TupleItem[], Buffer];

// design/tuple.md in apple/foundationdb (its test cases and worked examples).
const SPEC: Vector[] = [
  ['byte string with a 00 (spec: pack(b"foo\\x00bar"))', [Buffer.from('foo\0bar', 'latin1')], hex('01 66 6f 6f 00 ff 62 61 72 00')],
  ['unicode string (spec: pack(u"F\\u00d4O\\u0000bar"))', ['F\u00d4O\u0000bar'], hex('02 46 c3 94 4f 00 ff 62 61 72 00')],
  ['string with a 00 (SERVER.md: ("foo\\x00bar",))', ['foo\0bar'], hex('02 66 6f 6f 00 ff 62 61 72 00')],
  [
    'nested tuple (spec: pack(((b"foo\\x00bar", None, ()),)))',
    [[Buffer.from('foo\0bar', 'latin1'), null, []]],
    hex('05 01 66 6f 6f 00 ff 62 61 72 00 00 ff 05 00 00'),
  ],
  ['empty nested tuple (spec)', [[]], hex('05 00')],
  ['nested tuple holding null (spec)', [[null]], hex('05 00 ff 00')],
  ['negative integer (spec: pack(-5551212))', [-5551212], hex('11 ab 4b 93')],
  ['-1 (spec: one\'s complement)', [-1], hex('13 fe')],
  ['3.14 (SERVER.md)', [3.14], hex('21 c0 09 1e b8 51 eb 85 1f')],
];

// bindings/java/src/junit/com/apple/foundationdb/tuple/TupleSerializationTest.java,
// every case JavaScript can express (not: 32-bit floats, UUIDs, versionstamps,
// the double 0.0, which JavaScript cannot tell from the integer 0, and NaNs
// with payloads).
const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);
const JAVA: Vector[] = [
  ['()', [], bytes()],
  ['0', [0], bytes(0x14)],
  ['0n', [0n], bytes(0x14)],
  ['1', [1], bytes(0x15, 0x01)],
  ['1n', [1n], bytes(0x15, 0x01)],
  ['-1', [-1], bytes(0x13, FF - 1)],
  ['-1n', [-1n], bytes(0x13, FF - 1)],
  ['255', [255], bytes(0x15, FF)],
  ['-255', [-255], bytes(0x13, 0x00)],
  ['256', [256], bytes(0x16, 0x01, 0x00)],
  ['-256', [-256], bytes(0x12, FF - 1, FF)],
  ['65536', [65536], bytes(0x17, 0x01, 0x00, 0x00)],
  ['-65536', [-65536], bytes(0x11, FF - 1, FF, FF)],
  ['Long.MAX_VALUE', [LONG_MAX], bytes(0x1c, 0x7f, FF, FF, FF, FF, FF, FF, FF)],
  ['Long.MAX_VALUE + 1', [LONG_MAX + 1n], bytes(0x1c, 0x80, 0, 0, 0, 0, 0, 0, 0)],
  ['2^64 - 1', [2n ** 64n - 1n], bytes(0x1c, FF, FF, FF, FF, FF, FF, FF, FF)],
  ['2^64', [2n ** 64n], bytes(0x1d, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['-(2^32 - 1)', [-(2 ** 32 - 1)], bytes(0x10, 0, 0, 0, 0)],
  ['Long.MIN_VALUE + 2', [LONG_MIN + 2n], bytes(0x0c, 0x80, 0, 0, 0, 0, 0, 0, 0x01)],
  ['Long.MIN_VALUE + 1', [LONG_MIN + 1n], bytes(0x0c, 0x80, 0, 0, 0, 0, 0, 0, 0)],
  ['Long.MIN_VALUE', [LONG_MIN], bytes(0x0c, 0x7f, FF, FF, FF, FF, FF, FF, FF)],
  ['Long.MIN_VALUE - 1', [LONG_MIN - 1n], bytes(0x0c, 0x7f, FF, FF, FF, FF, FF, FF, FF - 1)],
  ['-(2^64 - 1)', [-(2n ** 64n - 1n)], bytes(0x0c, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['3.14', [3.14], bytes(0x21, 0xc0, 0x09, 0x1e, 0xb8, 0x51, 0xeb, 0x85, 0x1f)],
  ['-3.14', [-3.14], bytes(0x21, 0x3f, 0xf6, 0xe1, 0x47, 0xae, 0x14, 0x7a, 0xe0)],
  ['-0.0', [-0], bytes(0x21, 0x7f, FF, FF, FF, FF, FF, FF, FF)],
  ['Infinity', [Infinity], bytes(0x21, FF, 0xf0, 0, 0, 0, 0, 0, 0)],
  ['-Infinity', [-Infinity], bytes(0x21, 0x00, 0x0f, FF, FF, FF, FF, FF, FF)],
  ['empty bytes', [Buffer.alloc(0)], bytes(0x01, 0x00)],
  ['bytes 01 02 03', [Uint8Array.of(1, 2, 3)], bytes(0x01, 0x01, 0x02, 0x03, 0x00)],
  ['bytes 00 00 00 04', [Uint8Array.of(0, 0, 0, 4)], bytes(0x01, 0x00, FF, 0x00, FF, 0x00, FF, 0x04, 0x00)],
  ['""', [''], bytes(0x02, 0x00)],
  ['"hello"', ['hello'], Buffer.from('\x02hello\x00', 'latin1')],
  ['Chinese', ['\u4e2d\u6587'], bytes(0x02, 0xe4, 0xb8, 0xad, 0xe6, 0x96, 0x87, 0x00)],
  ['Greek', ['\u03bc\u03ac\u03b8\u03b7\u03bc\u03b1'], bytes(0x02, 0xce, 0xbc, 0xce, 0xac, 0xce, 0xb8, 0xce, 0xb7, 0xce, 0xbc, 0xce, 0xb1, 0x00)],
  ['fire emoji', [String.fromCodePoint(0x1f525)], bytes(0x02, 0xf0, 0x9f, 0x94, 0xa5, 0x00)],
  ['bagel emoji', ['\ud83e\udd6f'], bytes(0x02, 0xf0, 0x9f, 0xa5, 0xaf, 0x00)],
  ['U+10FFFF', ['\udbff\udfff'], bytes(0x02, 0xf4, 0x8f, 0xbf, 0xbf, 0x00)],
  ['((null))', [[null]], bytes(0x05, 0x00, FF, 0x00)],
  ['((null, "hello"))', [[null, 'hello']], Buffer.from('\x05\x00\xff\x02hello\x00\x00', 'latin1')],
  ['((null, "hell\\0"))', [[null, 'hell\0']], Buffer.from('\x05\x00\xff\x02hell\x00\xff\x00\x00', 'latin1')],
  ['((null), "hello")', [[null], 'hello'], Buffer.from('\x05\x00\xff\x00\x02hello\x00', 'latin1')],
  [
    '((null), "hello", 01 00, empty bytes)',
    [[null], 'hello', Uint8Array.of(1, 0), Buffer.alloc(0)],
    Buffer.from('\x05\x00\xff\x00\x02hello\x00\x01\x01\x00\xff\x00\x01\x00', 'latin1'),
  ],
  ['false', [false], bytes(0x26)],
  ['true', [true], bytes(0x27)],
  ['(short) 0x3019', [0x3019], bytes(0x16, 0x30, 0x19)],
  ['(byte) 3', [3], bytes(0x15, 0x03)],
];

// The same rules at the edges birch adds: numbers by value, bigints past 8 bytes.
const BIRCH: Vector[] = [
  ['1.0 is the integer 1', [1.0], bytes(0x15, 0x01)],
  ['2^53 as a number is an integer', [2 ** 53], bytes(0x1b, 0x20, 0, 0, 0, 0, 0, 0)],
  ['NaN, the one quiet NaN', [NaN], bytes(0x21, FF, 0xf8, 0, 0, 0, 0, 0, 0)],
  ['0.5', [0.5], bytes(0x21, 0xbf, 0xe0, 0, 0, 0, 0, 0, 0)],
  ['smallest subnormal', [5e-324], bytes(0x21, 0x80, 0, 0, 0, 0, 0, 0, 0x01)],
  ['-(2^64)', [-(2n ** 64n)], bytes(0x0b, 0xff ^ 9, 0xfe, FF, FF, FF, FF, FF, FF, FF, FF)],
  ['2^72 - 1', [2n ** 72n - 1n], bytes(0x1d, 0x09, FF, FF, FF, FF, FF, FF, FF, FF, FF)],
  ['1e300 is an integer of 125 bytes', [1e300], Buffer.concat([bytes(0x1d, 125), Buffer.from(BigInt(1e300).toString(16).padStart(250, '0'), 'hex')])],
  ['a 255-byte bigint', [2n ** 2040n - 1n], Buffer.concat([bytes(0x1d, 255), Buffer.alloc(255, FF)])],
  ['a -255-byte bigint', [-(2n ** 2040n - 1n)], Buffer.concat([bytes(0x0b, 0x00), Buffer.alloc(255, 0)])],
  ['nested nesting', [[[], [[]]], null], bytes(0x05, 0x05, 0x00, 0x05, 0x05, 0x00, 0x00, 0x00, 0x00)],
  ['top-level nulls are one byte', [null, null], bytes(0x00, 0x00)],
  ['a byte-order mark is kept', ['\ufeffa'], bytes(0x02, 0xef, 0xbb, 0xbf, 0x61, 0x00)],
];

describe('tuple encoding: published bytes', () => {
  for (const [group, vectors] of [
    ['spec', SPEC],
    ['Java bindings', JAVA],
    ['birch', BIRCH],
  ] as const) {
    describe(group, () => {
      it.each(vectors.map((v) => [v[0], v] as const))('%s', (_name, [, tuple, packed]) => {
        expect(encodeTuple(tuple).toString('hex')).toBe(packed.toString('hex'));
        expect(decodeTuple(packed)).toEqual(normalize(tuple) as TupleItem[]);
      });
    });
  }

  it('decodes -0 as -0 and NaN as NaN', () => {
    const [z, n] = decodeTuple(encodeTuple([-0, NaN]));
    expect(Object.is(z, -0)).toBe(true);
    expect(Number.isNaN(n)).toBe(true);
  });

  it('decodes integers as numbers when safe, bigints beyond', () => {
    expect(decodeTuple(encodeTuple([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]))).toEqual([
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ]);
    expect(decodeTuple(encodeTuple([Number.MAX_SAFE_INTEGER + 1, -(2 ** 53)]))).toEqual([2n ** 53n, -(2n ** 53n)]);
    expect(decodeTuple(encodeTuple([5n]))).toEqual([5]);
  });

  it('writes every type across the points where the output buffer grows', () => {
    const items: TupleItem[] = [3.14, -5551212, 2n ** 70n, 'a\0b', 'abc', Buffer.of(0, 1), [null], true];
    for (let pad = 0; pad < 300; pad++) {
      for (const item of items) {
        for (const t of [['a'.repeat(pad), item, 'end'], [Buffer.alloc(pad, 0x61), item, 'end'], [pad, 'a'.repeat(pad), item]]) {
          expect(decodeTuple(encodeTuple(t)), `pad ${pad}`).toEqual(normalize(t));
        }
      }
    }
  });

  it('returns byte strings as Buffers of their own, not views of the input', () => {
    const packed = encodeTuple([Buffer.from('abc')]);
    const [b] = decodeTuple(packed) as [Buffer];
    expect(Buffer.isBuffer(b)).toBe(true);
    packed.fill(0x78);
    expect(b.toString()).toBe('abc');
  });
});

describe('tuple encoding: round trips and order', () => {
  it('round-trips random tuples (every type, nested)', () => {
    for (const seed of [1, 2, 3]) {
      const r = new Rng(seed);
      for (let i = 0; i < 2000; i++) {
        const t = randomTuple(r, 3, 6);
        const packed = encodeTuple(t);
        const back = decodeTuple(packed);
        expect(back, `seed ${seed}, tuple ${i}`).toEqual(normalize(t));
        expect(encodeTuple(back).equals(packed), `seed ${seed}, tuple ${i}`).toBe(true);
      }
    }
  });

  it('orders encoded bytes as the spec orders tuples (every pair)', () => {
    for (const seed of [11, 12]) {
      const r = new Rng(seed);
      const tuples = [...relatedTuples(r, 250), ...Array.from({ length: 150 }, () => randomTuple(r, 2, 4))];
      const packed = tuples.map(encodeTuple);
      for (let i = 0; i < tuples.length; i++) {
        for (let j = 0; j < tuples.length; j++) {
          const want = compareTuples(tuples[i]!, tuples[j]!);
          const got = Math.sign(Buffer.compare(packed[i]!, packed[j]!));
          if (got !== want) {
            expect.fail(`seed ${seed}: ${show(tuples[i]!)} vs ${show(tuples[j]!)}: reference ${want}, bytes ${got}`);
          }
        }
      }
    }
  });

  it('sorts alike by value and by bytes', () => {
    const r = new Rng(21);
    const tuples = relatedTuples(r, 3000);
    const byValue = [...tuples].sort(compareTuples).map((t) => encodeTuple(t).toString('hex'));
    const byBytes = tuples.map(encodeTuple).sort(Buffer.compare).map((b) => b.toString('hex'));
    expect(byBytes).toEqual(byValue);
  });

  it('orders the edge cases of each type', () => {
    const ascending: TupleItem[][] = [
      [],
      [null],
      [null, null],
      [null, 0],
      [Buffer.alloc(0)],
      [Buffer.of(0)],
      [Buffer.of(0, 0)],
      [Buffer.of(1)],
      [Buffer.of(0xff)],
      [''],
      ['\0'],
      ['a'],
      ['\uffff'],
      ['\u{10000}'], // above U+FFFF in code point order, below it in UTF-16
      [[]],
      [[null]],
      [[null, null]],
      [[0]],
      [-(2n ** 2040n - 1n)],
      [-(2n ** 64n)],
      [-(2n ** 64n - 1n)],
      [-(2 ** 53)],
      [-256],
      [-255],
      [-1],
      [0],
      [1],
      [255],
      [256],
      [2 ** 53],
      [2n ** 64n - 1n],
      [2n ** 64n],
      [2n ** 2040n - 1n],
      [-Infinity],
      [-1.5],
      [-5e-324],
      [-0],
      [5e-324],
      [0.5],
      [Infinity],
      [NaN],
      [false],
      [true],
    ];
    const packed = ascending.map(encodeTuple);
    for (let i = 1; i < packed.length; i++) {
      expect(Buffer.compare(packed[i - 1]!, packed[i]!), `${show(ascending[i - 1]!)} < ${show(ascending[i]!)}`).toBe(-1);
      expect(compareTuples(ascending[i - 1]!, ascending[i]!)).toBe(-1);
    }
  });

  it('tupleRange holds exactly the strict extensions of the prefix', () => {
    const r = new Rng(31);
    const tuples = relatedTuples(r, 600);
    for (let k = 0; k < 60; k++) {
      const base = r.pick(tuples);
      const prefix = base.slice(0, r.int(base.length + 1));
      const { gte, lt } = tupleRange(prefix);
      expect(gte.equals(Buffer.concat([encodeTuple(prefix), Buffer.of(0)]))).toBe(true);
      expect(lt.equals(Buffer.concat([encodeTuple(prefix), Buffer.of(0xff)]))).toBe(true);
      for (const t of tuples) {
        const b = encodeTuple(t);
        const inRange = Buffer.compare(b, gte) >= 0 && Buffer.compare(b, lt) < 0;
        const extends_ = t.length > prefix.length && compareTuples(t.slice(0, prefix.length), prefix) === 0;
        if (inRange !== extends_) expect.fail(`prefix ${show(prefix)}, tuple ${show(t)}: in range ${inRange}`);
      }
    }
  });
});

describe('tuple decoding: strict', () => {
  const CORRUPT: [string, Buffer][] = [
    ['an unknown type code', bytes(0x07)],
    ['0xff as a type code', bytes(0xff)],
    ['a top-level 00 ff', bytes(0x00, 0xff)],
    ['a 32-bit float (0x20)', bytes(0x20, 0xc0, 0x48, 0xf5, 0xc3)],
    ['a UUID (0x30)', Buffer.concat([bytes(0x30), Buffer.alloc(16)])],
    ['a versionstamp (0x33)', Buffer.concat([bytes(0x33), Buffer.alloc(12)])],
    ['a deprecated nested tuple (0x03)', bytes(0x03, 0x04)],
    ['a byte string without its end', bytes(0x01, 0x61, 0x62)],
    ['a byte string ending in an escape', bytes(0x01, 0x61, 0x00, 0xff)],
    ['a string without its end', bytes(0x02, 0x61)],
    ['a string that is not UTF-8', bytes(0x02, 0xc3, 0x00)],
    ['an overlong UTF-8 00', bytes(0x02, 0xc0, 0x80, 0x00)],
    ['UTF-8 of a surrogate', bytes(0x02, 0xed, 0xa0, 0x80, 0x00)],
    ['a nested tuple without its end', bytes(0x05, 0x15, 0x01)],
    ['a nested tuple with a null but no end', bytes(0x05, 0x00, 0xff)],
    ['an integer cut short', bytes(0x16, 0x01)],
    ['an 8-byte negative cut short', bytes(0x0c, 0x00)],
    ['a non-minimal positive integer', bytes(0x16, 0x00, 0x01)],
    ['a non-minimal negative integer', bytes(0x12, 0xff, 0xfe)],
    ['a big integer with no length', bytes(0x1d)],
    ['a big integer cut short', bytes(0x1d, 0x09, 0x01)],
    ['2^64 - 1 as Python writes it (0x1d 08)', Buffer.concat([bytes(0x1d, 0x08), Buffer.alloc(8, 0xff)])],
    ['-(2^64 - 1) as Python writes it (0x0b f7)', Buffer.concat([bytes(0x0b, 0xf7), Buffer.alloc(8, 0)])],
    ['a non-minimal big integer', Buffer.concat([bytes(0x1d, 0x09, 0x00), Buffer.alloc(8, 0xff)])],
    ['a non-minimal negative big integer', Buffer.concat([bytes(0x0b, 0xf6, 0xff), Buffer.alloc(8, 0)])],
    ['a reserved integer code (0x1e)', bytes(0x1e, 0x01)],
    ['a double cut short', bytes(0x21, 0xc0, 0x09)],
    ['the double 0.0 (Java writes it; birch writes 0 as 0x14)', bytes(0x21, 0x80, 0, 0, 0, 0, 0, 0, 0)],
    ['the double 1.0', bytes(0x21, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0)],
    ['a NaN with a payload', bytes(0x21, FF, FF, FF, FF, FF, FF, FF, FF)],
    ['a negative NaN', bytes(0x21, 0, 0, 0, 0, 0, 0, 0, 0)],
  ];
  it.each(CORRUPT)('refuses %s with BIRCH_CORRUPT', (_name, b) => {
    expectCode(() => decodeTuple(b), 'BIRCH_CORRUPT', /^tuple: .* at byte \d+$/);
  });

  it('decodes the empty key as the empty tuple', () => {
    expect(decodeTuple(Buffer.alloc(0))).toEqual([]);
  });

  it('either refuses bytes or decodes them to the one tuple that encodes to them', () => {
    const r = new Rng(41);
    const alphabet = [0x00, 0x01, 0x02, 0x05, 0x0b, 0x0c, 0x13, 0x14, 0x15, 0x16, 0x1c, 0x1d, 0x21, 0x26, 0x27, 0xff, 0x80, 0x61, 0x09];
    const inputs: Buffer[] = [];
    for (let i = 0; i < 20000; i++) {
      const n = r.range(0, 12);
      inputs.push(Buffer.from(Array.from({ length: n }, () => (r.bool(0.7) ? r.pick(alphabet) : r.int(256)))));
    }
    for (let i = 0; i < 20000; i++) {
      // A valid encoding with one byte changed, inserted, dropped, or cut off.
      const b = [...encodeTuple(randomTuple(r, 2, 4))];
      const at = r.int(b.length + 1);
      const op = r.int(4);
      if (op === 0 && at < b.length) b[at] = r.bool() ? r.pick(alphabet) : r.int(256);
      else if (op === 1) b.splice(at, 0, r.pick(alphabet));
      else if (op === 2) b.splice(at, 1);
      else b.length = at;
      inputs.push(Buffer.from(b));
    }
    let decoded = 0;
    for (const b of inputs) {
      let t: TupleItem[];
      try {
        t = decodeTuple(b);
      } catch (e) {
        expect(e instanceof BirchError && e.code === 'BIRCH_CORRUPT', `${b.toString('hex')}: ${String(e)}`).toBe(true);
        continue;
      }
      decoded++;
      expect(encodeTuple(t).toString('hex'), `decoded ${b.toString('hex')}`).toBe(b.toString('hex'));
    }
    // Enough of both outcomes for the property to mean something.
    expect(decoded).toBeGreaterThan(5000);
    expect(inputs.length - decoded).toBeGreaterThan(5000);
  });

  it('decodes deep nesting without growing the stack', () => {
    const depth = 200_000;
    const deep = Buffer.concat([Buffer.alloc(depth, 0x05), Buffer.alloc(depth, 0x00)]);
    let t = decodeTuple(deep);
    for (let i = 0; i < depth; i++) {
      expect(t.length).toBe(1);
      t = t[0] as TupleItem[];
    }
    expect(t).toEqual([]);
    expectCode(() => decodeTuple(Buffer.alloc(depth, 0x05)), 'BIRCH_CORRUPT', /without its end/);
  });
});

describe('tuple encoding: refusals', () => {
  const sparse: TupleItem[] = [1];
  sparse[2] = 3;
  const circular: unknown[] = ['a'];
  circular.push([circular]);
  const BAD: [string, unknown, RegExp][] = [
    ['undefined', [undefined], /tuple item \[0\] is undefined/],
    ['a hole in a sparse array', sparse, /tuple item \[1\] is undefined/],
    ['a nested undefined', ['a', [1, [undefined]]], /tuple item \[1\]\[1\]\[0\] is undefined/],
    ['a symbol', [Symbol('s')], /\[0\] is a symbol/],
    ['a function', [() => 1], /\[0\] is a function/],
    ['an object', [{ a: 1 }], /\[0\] is an object/],
    ['a Date', [new Date(0)], /\[0\] is an instance of Date/],
    ['a Map', [new Map()], /\[0\] is an instance of Map/],
    ['a Uint16Array', [new Uint16Array(2)], /\[0\] is an instance of Uint16Array/],
    ['an ArrayBuffer', [new ArrayBuffer(2)], /\[0\] is an instance of ArrayBuffer/],
    ['a String object', [new String('a')], /\[0\] is an instance of String/],
    ['a lone surrogate', ['a\ud800'], /\[0\] is a string with a lone UTF-16 surrogate/],
    ['a lone low surrogate in a nested tuple', [['\udc00b']], /\[0\]\[0\] is a string with a lone/],
    ['an integer of 256 bytes', [2n ** 2040n], /\[0\] is an integer of 256 bytes; the tuple layer holds at most 255/],
    ['a negative integer of 256 bytes', [-(2n ** 2040n)], /256 bytes/],
    ['a circular array', circular, /tuple item \[1\]\[0\] is an array that contains itself/],
  ];
  it.each(BAD)('refuses %s with BIRCH_BAD_ARGUMENT naming it', (_name, t, message) => {
    expectCode(() => encodeTuple(t as TupleItem[]), 'BIRCH_BAD_ARGUMENT', message);
  });

  it('refuses a tuple that is not an array', () => {
    for (const t of ['a', 1, null, undefined, { length: 0 }, Buffer.from('a')]) {
      expectCode(() => encodeTuple(t as unknown as TupleItem[]), 'BIRCH_BAD_ARGUMENT', /a tuple must be an array/);
    }
  });

  it('accepts an array that appears twice without a cycle', () => {
    const shared = [1, 'x'];
    expect(decodeTuple(encodeTuple([shared, shared, [shared]]))).toEqual([[1, 'x'], [1, 'x'], [[1, 'x']]]);
  });

  it('encodes deep nesting without growing the stack', () => {
    let t: TupleItem[] = [];
    for (let i = 0; i < 200_000; i++) t = [t];
    expect(encodeTuple(t).length).toBe(2 * 200_001 - 2);
  });
});

function show(t: readonly TupleItem[]): string {
  return JSON.stringify(t, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return Object.is(v, -0) ? '-0' : String(v);
    if (v instanceof Uint8Array || (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer')) {
      return `<${Buffer.from((v as { data?: number[] }).data ?? (v as Uint8Array)).toString('hex')}>`;
    }
    return v;
  });
}
