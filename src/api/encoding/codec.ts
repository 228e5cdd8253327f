/**
 * What every key and value encoding is: a pair of functions between the
 * application's values and the bytes birch stores, with typed errors on both
 * sides. The store calls encode() before anything is queued and decode() on
 * every read; neither ever returns a value other than the one stored.
 */
import { BirchError } from '../../errors.js';

export interface Codec<In, Out = In> {
  /** The encoding's name, as given in the options ('binary', 'tuple', ...). */
  readonly encoding: string;
  /** The bytes for `x`, in a new Buffer the caller may keep. Throws
   * BIRCH_BAD_ARGUMENT, naming what is wrong, for a value of the wrong type
   * or one this encoding cannot hold exactly. Does not check size limits
   * (see checkEncodedSize). */
  encode(x: In): Buffer;
  /** The value stored as `b`. Throws BIRCH_CORRUPT for bytes this encoding
   * never writes; never returns a wrong value. May return `b` itself
   * ('binary') or views of it, so pass a buffer the result may keep. */
  decode(b: Buffer): Out;
}

/**
 * `b` if it fits in `limit` bytes, else BIRCH_KEY_TOO_LARGE or
 * BIRCH_VALUE_TOO_LARGE naming the encoded size and the limit. The limit is
 * the caller's: 255 for a plain key or value, less for a key that shares the
 * 255 bytes with a table prefix.
 */
export function checkEncodedSize(b: Uint8Array, what: 'key' | 'value', limit: number): Uint8Array;
export function checkEncodedSize(b: Buffer, what: 'key' | 'value', limit: number): Buffer;
export function checkEncodedSize(b: Uint8Array, what: 'key' | 'value', limit: number): Uint8Array {
  if (b.length > limit) {
    throw new BirchError(
      what === 'key' ? 'BIRCH_KEY_TOO_LARGE' : 'BIRCH_VALUE_TOO_LARGE',
      `${what} encodes to ${b.length} bytes, more than the limit of ${limit}`,
    );
  }
  return b;
}

/** A short description of a value's type, for error messages. @internal */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'number') return `the number ${String(x)}`;
  if (typeof x === 'bigint') return `the bigint ${x}n`;
  if (typeof x === 'symbol') return 'a symbol';
  if (typeof x === 'function') return 'a function';
  if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x) as { constructor?: { name?: string } } | null;
    const name = proto?.constructor?.name;
    if (proto === null || proto === Object.prototype) return 'an object';
    if (name === undefined || name === '') return 'an object with a prototype';
    return `an instance of ${name}`;
  }
  return `a ${typeof x}`;
}

/** An object that JSON and msgpack write as a map of its own properties and read back as the same: `{...}` or Object.create(null). @internal */
export function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}
