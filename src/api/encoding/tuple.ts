/**
 * FoundationDB's tuple layer: tuples of typed items packed into bytes whose
 * unsigned byte order (Buffer.compare) is the tuple order. The spec is
 * design/tuple.md in apple/foundationdb; this file writes exactly its bytes,
 * checked against the examples of the spec and of the Java and Go bindings
 * (test/api/encoding-tuple.test.ts).
 *
 * Each item is a type code and a body; items are self-delimiting, so a
 * packed tuple is its items' encodings one after another, and the packed
 * tuples that extend `t` are exactly the keys in [pack(t) 00, pack(t) FF).
 *
 * | code      | JavaScript                   | body                                            |
 * | --------- | ---------------------------- | ----------------------------------------------- |
 * | 00        | null                         | none (inside a nested tuple: 00 FF)             |
 * | 01        | Uint8Array (Buffer)          | the bytes, each 00 written 00 FF, then 00       |
 * | 02        | string                       | its UTF-8, escaped and ended as 01's            |
 * | 05        | array (nested tuple)         | the items (null as 00 FF), then 00              |
 * | 0B        | integer < -(2^64 - 1)        | 255 - n, then the n-byte magnitude, inverted    |
 * | 0C..13    | integer, -(2^64 - 1) to -1   | the n = 0x14 - code byte magnitude, inverted    |
 * | 14        | 0                            | none                                            |
 * | 15..1C    | integer, 1 to 2^64 - 1       | the n = code - 0x14 byte magnitude, big-endian  |
 * | 1D        | integer > 2^64 - 1           | n, then the n-byte magnitude (n from 9 to 255)  |
 * | 21        | any other number             | IEEE 754 binary64, big-endian, then: positive   |
 * |           |                              | (sign bit 0): flip the sign bit; negative: flip |
 * |           |                              | every bit                                       |
 * | 26, 27    | false, true                  | none                                            |
 *
 * Magnitudes are minimal (no leading 00 byte), so each integer has one
 * encoding; "inverted" is one's complement, so -1 is 13 FE and -5551212 is
 * 11 AB 4B 93. 0B and 1D are the arbitrary-precision codes of the Python
 * and Java bindings; like Java and Go (and unlike Python, which writes
 * ±(2^64 - 1) with 1D/0B), birch uses them only for magnitudes of 9 bytes
 * or more.
 *
 * Order: items compare by type first, in code order (null < byte string <
 * string < nested tuple < integer < double < false < true), then by value:
 * byte strings and strings by their bytes (for strings, UTF-8 order, which
 * is Unicode code point order, not JavaScript's UTF-16 `<`), integers
 * numerically, doubles in IEEE total order (-NaN, -Infinity, ..., -0, +0,
 * ..., Infinity, NaN), nested tuples as tuples. A tuple that is a prefix of
 * another sorts first.
 *
 * Numbers: JavaScript has one number type, so birch encodes by value. A
 * number that is an integer (other than -0) is written as an integer,
 * whatever its size (1, 1.0 and 1n are the same item, 0x15 01); every other
 * number (fractions, -0, ±Infinity, NaN) is written as a double. Decoding
 * gives a number for integers from -(2^53 - 1) to 2^53 - 1 and a bigint
 * beyond (so 2^53 as a number comes back as 9007199254740992n). As in the
 * tuple layer itself, integers and doubles are different types: every
 * integer sorts before every double, so 2 < 1.5 (and 0 < -0). Keep one kind
 * of number in one position of a key.
 *
 * Decoding is strict: it accepts exactly the bytes encodeTuple() writes, so
 * decodeTuple(b) either throws BIRCH_CORRUPT or returns the one tuple whose
 * encoding is b. Besides malformed bytes, it refuses tuple-layer bytes that
 * birch never writes: the types birch does not support (0x20 float, 0x30
 * UUID, 0x33 versionstamp, the deprecated and reserved codes), non-minimal
 * integers, a double that holds an integer, and a NaN other than the one
 * JavaScript writes. A key that decoded to a tuple encoding to other bytes
 * could not be found again by that tuple.
 */
import { isUtf8 } from 'node:buffer';
import { BirchError } from '../../errors.js';
import { describe } from './codec.js';
import { isWellFormed } from './text.js';

/** One item of a tuple. Arrays are nested tuples. */
export type TupleItem = null | boolean | number | bigint | string | Uint8Array | readonly TupleItem[];

const NULL = 0x00;
const BYTES = 0x01;
const STRING = 0x02;
const NESTED = 0x05;
const NEG_BIG = 0x0b;
const INT_ZERO = 0x14;
const POS_BIG = 0x1d;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;
/** Follows a 00 inside an escaped byte string, or a null inside a nested tuple. */
const ESCAPE = 0xff;

/** The largest magnitude the tuple layer can hold: 255 bytes. */
const MAX_MAGNITUDE_BYTES = 255;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Names of the type codes birch reads as corrupt, for error messages. */
const UNSUPPORTED: Record<number, string> = {
  0x03: 'a deprecated nested tuple',
  0x04: 'a deprecated nested tuple',
  0x0a: 'a reserved integer code',
  0x1e: 'a reserved integer code',
  0x20: 'a 32-bit float, which birch does not write',
  0x22: 'an 80-bit float, which birch does not write',
  0x23: 'a reserved decimal code',
  0x24: 'a reserved decimal code',
  0x25: 'a deprecated true',
  0x30: 'a UUID, which birch does not support',
  0x31: 'a 64-bit identifier, which birch does not support',
  0x32: 'a versionstamp, which birch does not support',
  0x33: 'a versionstamp, which birch does not support',
};

/** A growing output buffer with a write cursor. */
class Writer {
  buf = Buffer.allocUnsafe(64);
  n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }

  /** Room for `k` bytes, counted as written: returns where they start. */
  take(k: number): number {
    this.room(k);
    this.n += k;
    return this.n - k;
  }

  /** The UTF-8 of `s`, escaped and ended as escaped() does. */
  string(s: string): void {
    if (s.includes('\0')) {
      this.escaped(Buffer.from(s, 'utf8'));
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.room(len + 1);
    this.n += this.buf.write(s, this.n, len, 'utf8');
    this.buf[this.n++] = 0x00;
  }

  /** `src`, each 00 written as 00 FF, then the terminating 00. */
  escaped(src: Uint8Array): void {
    this.room(src.length * 2 + 1);
    let from = 0;
    for (let i = src.indexOf(0); i >= 0; i = src.indexOf(0, i + 1)) {
      this.buf.set(src.subarray(from, i + 1), this.n);
      this.n += i + 1 - from;
      this.buf[this.n++] = ESCAPE;
      from = i + 1;
    }
    this.buf.set(src.subarray(from), this.n);
    this.n += src.length - from;
    this.buf[this.n++] = 0x00;
  }

  /** What was written, in a buffer no one else holds. */
  result(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

function bad(message: string): BirchError {
  return new BirchError('BIRCH_BAD_ARGUMENT', message);
}

/** Code and body of a nonzero integer of magnitude `mag` (big-endian bytes, no leading zero). */
function writeMagnitude(w: Writer, negative: boolean, mag: Uint8Array): void {
  const n = mag.length;
  if (n <= 8) w.byte(negative ? INT_ZERO - n : INT_ZERO + n);
  else if (negative) {
    w.byte(NEG_BIG);
    w.byte(n ^ 0xff);
  } else {
    w.byte(POS_BIG);
    w.byte(n);
  }
  for (let i = 0; i < n; i++) w.byte(negative ? mag[i]! ^ 0xff : mag[i]!);
}

/** A safe integer: the common case, without bigint arithmetic. */
function writeSafeInteger(w: Writer, x: number): void {
  if (x === 0) {
    w.byte(INT_ZERO);
    return;
  }
  const negative = x < 0;
  let m = negative ? -x : x;
  let n = 0;
  for (let t = m; t > 0; t = Math.floor(t / 256)) n++;
  w.byte(negative ? INT_ZERO - n : INT_ZERO + n);
  const at = w.take(n);
  const inv = negative ? 0xff : 0x00;
  for (let i = n - 1; i >= 0; i--) {
    w.buf[at + i] = (m % 256) ^ inv;
    m = Math.floor(m / 256);
  }
}

function writeInteger(w: Writer, x: number | bigint, where: () => string): void {
  if (typeof x === 'bigint' && x >= -MAX_SAFE && x <= MAX_SAFE) x = Number(x);
  if (typeof x === 'number') {
    writeSafeInteger(w, x);
    return;
  }
  const negative = x < 0n;
  let hex = (negative ? -x : x).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (hex.length / 2 > MAX_MAGNITUDE_BYTES) {
    throw bad(`${where()} is an integer of ${hex.length / 2} bytes; the tuple layer holds at most ${MAX_MAGNITUDE_BYTES}`);
  }
  writeMagnitude(w, negative, Buffer.from(hex, 'hex'));
}

/** The 8 bytes of binary64 `x`, transformed so that unsigned byte order is IEEE total order. */
function doubleBytes(x: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  if (Number.isNaN(x)) {
    // One NaN, the quiet NaN 7FF8 0000 0000 0000: a NaN may carry another
    // payload (read from a Float64Array, say), and a key must not depend on it.
    b.writeUInt32BE(0x7ff80000, 0);
    b.writeUInt32BE(0, 4);
  } else {
    b.writeDoubleBE(x);
  }
  if (b[0]! & 0x80) for (let i = 0; i < 8; i++) b[i] = b[i]! ^ 0xff;
  else b[0] = b[0]! ^ 0x80;
  return b;
}

const CANONICAL_NAN = doubleBytes(NaN);

interface Frame {
  items: readonly unknown[];
  /** The index of the next item; the current one is i - 1. */
  i: number;
}

/** Where the item being written is, as `tuple item [2][0]`. */
function place(stack: readonly Frame[]): string {
  return `tuple item ${stack.map((f) => `[${f.i - 1}]`).join('')}`;
}

/**
 * The bytes of tuple `t`. Throws BIRCH_BAD_ARGUMENT, naming the item's place
 * (`[2][0]` is the first item of the nested tuple at index 2), for anything
 * that is not a TupleItem: undefined (holes of sparse arrays included),
 * symbols, functions, objects, typed arrays other than Uint8Array, strings
 * with a lone surrogate, circular arrays, and integers of more than 255
 * bytes.
 */
export function encodeTuple(t: readonly TupleItem[]): Buffer {
  if (!Array.isArray(t)) throw bad(`a tuple must be an array, got ${describe(t)}`);
  const w = new Writer();
  // Iterative, so that no input can overflow the stack; `open` holds the
  // arrays being written, to refuse a cycle (made at the first nested one).
  const stack: Frame[] = [{ items: t, i: 0 }];
  let open: Set<readonly unknown[]> | undefined;
  const where = (): string => place(stack);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.i === frame.items.length) {
      stack.pop();
      if (stack.length > 0) w.byte(0x00);
      open?.delete(frame.items);
      continue;
    }
    const x = frame.items[frame.i++];
    if (x === null) {
      w.byte(NULL);
      if (stack.length > 1) w.byte(ESCAPE);
    } else if (typeof x === 'string') {
      if (!isWellFormed(x)) throw bad(`${where()} is a string with a lone UTF-16 surrogate, which UTF-8 cannot encode`);
      w.byte(STRING);
      w.string(x);
    } else if (typeof x === 'number') {
      if (Number.isInteger(x) && !Object.is(x, -0)) {
        writeInteger(w, Number.isSafeInteger(x) ? x : BigInt(x), where);
      } else {
        w.byte(DOUBLE);
        const at = w.take(8); // before reading w.buf: take() may replace it
        doubleBytes(x).copy(w.buf, at);
      }
    } else if (typeof x === 'bigint') {
      writeInteger(w, x, where);
    } else if (typeof x === 'boolean') {
      w.byte(x ? TRUE : FALSE);
    } else if (x instanceof Uint8Array) {
      w.byte(BYTES);
      w.escaped(x);
    } else if (Array.isArray(x)) {
      open ??= new Set([t]);
      if (open.has(x)) throw bad(`${where()} is an array that contains itself`);
      open.add(x);
      w.byte(NESTED);
      stack.push({ items: x, i: 0 });
    } else {
      throw bad(
        `${where()} is ${describe(x)}; tuple items are null, booleans, numbers, bigints, strings, Uint8Arrays and arrays`,
      );
    }
  }
  return w.result();
}

/**
 * The range of keys holding the tuples that extend `prefix` by at least one
 * item: [pack(prefix) 00, pack(prefix) FF). `prefix` itself is not in it
 * (as in FoundationDB's Tuple.range()).
 */
export function tupleRange(prefix: readonly TupleItem[]): { gte: Buffer; lt: Buffer } {
  const p = encodeTuple(prefix);
  return { gte: Buffer.concat([p, Buffer.of(0x00)]), lt: Buffer.concat([p, Buffer.of(0xff)]) };
}

function corrupt(message: string, at: number): BirchError {
  return new BirchError('BIRCH_CORRUPT', `tuple: ${message} at byte ${at}`);
}

/**
 * The tuple encoded in `b`. Throws BIRCH_CORRUPT for bytes that encodeTuple()
 * does not write (see the top of this file); never returns a wrong value.
 * Byte strings come back as new Buffers (not views of `b`); integers as
 * numbers when safe, else bigints.
 */
export function decodeTuple(b: Uint8Array): TupleItem[] {
  const top: TupleItem[] = [];
  const stack: TupleItem[][] = [top];
  const need = (p: number, k: number, what: string): void => {
    if (p + k > b.length) throw corrupt(`${what} cut short`, p);
  };
  let p = 0;
  while (p < b.length) {
    const cur = stack[stack.length - 1]!;
    const code = b[p]!;
    if (code === NULL) {
      if (stack.length === 1) {
        cur.push(null);
        p += 1;
      } else if (b[p + 1] === ESCAPE) {
        cur.push(null);
        p += 2;
      } else {
        stack.pop(); // the end of a nested tuple
        p += 1;
      }
    } else if (code === BYTES || code === STRING) {
      const [body, end] = unescape(b, p);
      if (code === BYTES) cur.push(Buffer.from(body)); // a copy, not a view of b
      else {
        if (!isUtf8(body)) throw corrupt('a string that is not valid UTF-8', p);
        cur.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      }
      p = end;
    } else if (code === NESTED) {
      const nested: TupleItem[] = [];
      cur.push(nested);
      stack.push(nested);
      p += 1;
    } else if (code > NEG_BIG && code < POS_BIG) {
      if (code === INT_ZERO) {
        cur.push(0);
        p += 1;
        continue;
      }
      const negative = code < INT_ZERO;
      const n = negative ? INT_ZERO - code : code - INT_ZERO;
      need(p + 1, n, 'an integer');
      cur.push(readInteger(b, p + 1, n, negative, p));
      p += 1 + n;
    } else if (code === POS_BIG || code === NEG_BIG) {
      need(p + 1, 1, 'an integer');
      const negative = code === NEG_BIG;
      const n = negative ? b[p + 1]! ^ 0xff : b[p + 1]!;
      if (n <= 8) throw corrupt(`a ${n}-byte integer under the arbitrary-precision code (birch writes it with code 0x${(negative ? INT_ZERO - n : INT_ZERO + n).toString(16)})`, p);
      need(p + 2, n, 'an integer');
      cur.push(readInteger(b, p + 2, n, negative, p));
      p += 2 + n;
    } else if (code === DOUBLE) {
      need(p + 1, 8, 'a double');
      cur.push(readDouble(b, p));
      p += 9;
    } else if (code === FALSE || code === TRUE) {
      cur.push(code === TRUE);
      p += 1;
    } else {
      const name = UNSUPPORTED[code];
      throw corrupt(`type code 0x${code.toString(16).padStart(2, '0')}${name !== undefined ? ` (${name})` : ''}`, p);
    }
  }
  if (stack.length > 1) throw corrupt('a nested tuple without its end', b.length);
  return top;
}

/**
 * The body of the byte string or string whose code is at `p`, escapes
 * removed (a view of `b` when it has none), and where it ends.
 */
function unescape(b: Uint8Array, p: number): [Uint8Array, number] {
  let z = b.indexOf(0x00, p + 1);
  if (z >= 0 && b[z + 1] !== ESCAPE) return [b.subarray(p + 1, z), z + 1];
  const chunks: Uint8Array[] = [];
  let from = p + 1;
  for (;;) {
    if (z < 0) throw corrupt('a byte string or string without its end', p);
    if (b[z + 1] !== ESCAPE) {
      chunks.push(b.subarray(from, z));
      return [Buffer.concat(chunks), z + 1];
    }
    chunks.push(b.subarray(from, z + 1));
    from = z + 2;
    z = b.indexOf(0x00, from);
  }
}

/** The integer whose n-byte magnitude starts at `at`, inverted if negative; minimal or corrupt. */
function readInteger(b: Uint8Array, at: number, n: number, negative: boolean, p: number): number | bigint {
  const inv = negative ? 0xff : 0x00;
  if ((b[at]! ^ inv) === 0) throw corrupt('an integer with a leading zero byte (not minimal)', p);
  if (n <= 6) {
    let m = 0;
    for (let i = 0; i < n; i++) m = m * 256 + (b[at + i]! ^ inv);
    return negative ? -m : m;
  }
  let m = 0n;
  for (let i = 0; i < n; i++) m = (m << 8n) | BigInt(b[at + i]! ^ inv);
  if (m <= MAX_SAFE) return negative ? -Number(m) : Number(m);
  return negative ? -m : m;
}

function readDouble(b: Uint8Array, p: number): number {
  const raw = Buffer.from(b.subarray(p + 1, p + 9));
  if (raw[0]! & 0x80) raw[0] = raw[0]! ^ 0x80;
  else for (let i = 0; i < 8; i++) raw[i] = raw[i]! ^ 0xff;
  const x = raw.readDoubleBE(0);
  if (Number.isNaN(x)) {
    if (Buffer.compare(b.subarray(p + 1, p + 9), CANONICAL_NAN) !== 0) throw corrupt('a NaN other than the one birch writes', p);
  } else if (Number.isInteger(x) && !Object.is(x, -0)) {
    throw corrupt(`a double holding the integer ${x} (birch writes integers with integer codes)`, p);
  }
  return x;
}
