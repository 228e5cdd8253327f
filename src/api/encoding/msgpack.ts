/**
 * The 'msgpack' value encoding, through @msgpack/msgpack (the MessagePack
 * organisation's pure-TypeScript implementation, no dependencies), with
 * useBigInt64 on both sides: a bigint is written as int64/uint64 and read
 * back as a bigint, and a number is written as an integer format only when
 * it fits in 32 bits (else as a float64, exactly), so numbers come back as
 * numbers and bigints as bigints.
 *
 * Accepted: null, booleans, numbers (NaN and ±Infinity too; -0 comes back
 * as 0), bigints from -2^63 to 2^64 - 1, strings, Uint8Arrays (Buffers; read
 * back as Uint8Array), valid Dates (the timestamp extension), arrays and
 * plain objects of those, nested at most MAX_DEPTH deep. Refused with
 * BIRCH_BAD_ARGUMENT, before the library sees them, are the values it would
 * write as something else: undefined (nil, read back as null), Maps, Sets,
 * class instances and typed arrays other than Uint8Array (maps of their own
 * properties, or bytes), strings with a lone surrogate (written as
 * WTF-8 or U+FFFD depending on length), a "__proto__" key (which the
 * library's reader refuses), functions, symbols, cycles.
 *
 * Reading: the library decodes strings leniently (malformed UTF-8 becomes
 * other characters), so checkBytes() first walks the bytes, refusing with
 * BIRCH_CORRUPT anything malformed, cut short or followed by extra bytes,
 * and any string that is not valid UTF-8. Values of extension types other
 * than timestamps come back as the library's ExtData; of a map with a key
 * twice, the last value is kept.
 *
 * @internal
 */
import { isUtf8 } from 'node:buffer';
import { Decoder, Encoder } from '@msgpack/msgpack';
import { BirchError } from '../../errors.js';
import { describe, isPlainObject, type Codec } from './codec.js';
import { isWellFormed } from './text.js';

/** How deep arrays and objects may nest (a 255-byte value cannot nest deeper than 255). */
export const MAX_DEPTH = 256;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

// The library's own depth check is a backstop: check() refuses first, with a better message.
const encoder = new Encoder({ useBigInt64: true, maxDepth: MAX_DEPTH + 1, initialBufferSize: 256 });
const decoder = new Decoder({ useBigInt64: true });

function bad(path: string, why: string): BirchError {
  return new BirchError('BIRCH_BAD_ARGUMENT', `${path} ${why}`);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Refuse what msgpack would not read back as itself (see the top of the file). */
function check(x: unknown, path: string, depth: number, open: Set<object>): void {
  switch (typeof x) {
    case 'boolean':
    case 'number':
      return;
    case 'string':
      if (!isWellFormed(x)) throw bad(path, 'is a string with a lone UTF-16 surrogate, which UTF-8 cannot encode');
      return;
    case 'bigint':
      if (x < INT64_MIN || x > UINT64_MAX) throw bad(path, `is ${describe(x)}, outside the 64-bit integers msgpack holds`);
      return;
    case 'object':
      break;
    default:
      throw bad(path, `is ${describe(x)}, which msgpack cannot hold${x === undefined ? ' (it would come back as null)' : ''}`);
  }
  if (x === null || x instanceof Uint8Array) return;
  if (x instanceof Date) {
    if (Number.isNaN(x.getTime())) throw bad(path, 'is an invalid Date');
    return;
  }
  if (depth >= MAX_DEPTH) throw bad(path, `is nested more than ${MAX_DEPTH} deep`);
  if (open.has(x)) throw bad(path, 'contains itself');
  open.add(x);
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) check(x[i], `${path}[${i}]`, depth + 1, open);
  } else if (isPlainObject(x)) {
    for (const [k, v] of Object.entries(x)) {
      const at = IDENTIFIER.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      if (k === '__proto__') throw bad(at, 'is a "__proto__" key, which msgpack readers refuse');
      if (!isWellFormed(k)) throw bad(at, 'is a key with a lone UTF-16 surrogate, which UTF-8 cannot encode');
      check(v, at, depth + 1, open);
    }
  } else {
    throw bad(
      path,
      `is ${describe(x)}; msgpack values are null, booleans, numbers, bigints, strings, Uint8Arrays, Dates, arrays and plain objects`,
    );
  }
  open.delete(x);
}

function corrupt(why: string, at: number): BirchError {
  return new BirchError('BIRCH_CORRUPT', `value (encoding 'msgpack'): ${why} at byte ${at}`);
}

/**
 * Walk one msgpack value that must fill `b` exactly, checking every length
 * against the bytes there are and every string for UTF-8. Format codes from
 * the MessagePack spec (spec.md, "Formats").
 */
function checkBytes(b: Uint8Array): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  let pending = 1; // values still to read
  while (pending > 0) {
    pending--;
    if (p >= b.length) throw corrupt('a value cut short', p);
    const c = b[p]!;
    let head = 1; // bytes before the payload
    let len = 0; // payload bytes
    let items = 0; // values that follow as elements (maps: keys and values)
    let str = false;
    const sized = (h: number, lenBytes: 1 | 2 | 4): number => {
      head = h;
      if (p + h > b.length) throw corrupt('a header cut short', p);
      const at = p + 1;
      return lenBytes === 1 ? dv.getUint8(at) : lenBytes === 2 ? dv.getUint16(at) : dv.getUint32(at);
    };
    if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) {
      // fixint, nil, false, true: the byte is the value
    } else if (c <= 0x8f) items = 2 * (c & 0x0f);
    else if (c <= 0x9f) items = c & 0x0f;
    else if (c <= 0xbf) {
      len = c & 0x1f;
      str = true;
    } else {
      switch (c) {
        case 0xc4: len = sized(2, 1); break; // bin 8
        case 0xc5: len = sized(3, 2); break;
        case 0xc6: len = sized(5, 4); break;
        case 0xc7: len = sized(3, 1); break; // ext 8: length, type
        case 0xc8: len = sized(4, 2); break;
        case 0xc9: len = sized(6, 4); break;
        case 0xca: len = 4; break; // float 32
        case 0xcb: len = 8; break; // float 64
        case 0xcc: case 0xd0: len = 1; break; // (u)int 8
        case 0xcd: case 0xd1: len = 2; break;
        case 0xce: case 0xd2: len = 4; break;
        case 0xcf: case 0xd3: len = 8; break;
        case 0xd4: head = 2; len = 1; break; // fixext 1..16: type, data
        case 0xd5: head = 2; len = 2; break;
        case 0xd6: head = 2; len = 4; break;
        case 0xd7: head = 2; len = 8; break;
        case 0xd8: head = 2; len = 16; break;
        case 0xd9: len = sized(2, 1); str = true; break; // str 8
        case 0xda: len = sized(3, 2); str = true; break;
        case 0xdb: len = sized(5, 4); str = true; break;
        case 0xdc: items = sized(3, 2); break; // array 16
        case 0xdd: items = sized(5, 4); break;
        case 0xde: items = 2 * sized(3, 2); break; // map 16
        case 0xdf: items = 2 * sized(5, 4); break;
        default: throw corrupt('the unused format byte 0xc1', p);
      }
    }
    if (p + head + len > b.length) throw corrupt('a value cut short', p);
    if (str && !isUtf8(b.subarray(p + head, p + head + len))) throw corrupt('a string that is not valid UTF-8', p);
    p += head + len;
    pending += items;
    // Every value takes at least a byte: this bounds the loop by b.length.
    if (pending > b.length - p) throw corrupt('more elements than bytes', p);
  }
  if (p !== b.length) throw corrupt(`${b.length - p} bytes after the value`, p);
}

export const msgpackCodec: Codec<unknown, unknown> = Object.freeze({
  encoding: 'msgpack',
  encode(x: unknown): Buffer {
    check(x, 'value', 0, new Set());
    let out: Uint8Array;
    try {
      out = encoder.encode(x);
    } catch (e) {
      throw new BirchError('BIRCH_BAD_ARGUMENT', `value cannot be encoded as msgpack: ${(e as Error).message}`, { cause: e });
    }
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  },
  decode(b: Buffer): unknown {
    checkBytes(b);
    try {
      // A copy: byte strings in the result are views of what is decoded.
      return decoder.decode(Uint8Array.from(b));
    } catch (e) {
      throw new BirchError('BIRCH_CORRUPT', `value (encoding 'msgpack') does not decode: ${(e as Error).message}`, { cause: e });
    }
  },
});
