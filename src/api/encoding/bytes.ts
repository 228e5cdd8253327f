/**
 * The two encodings keys and values share: 'binary' (bytes in, Buffers out;
 * a string is taken as its UTF-8, as birch has always done) and 'utf8'
 * (strings in, strings out).
 *
 * @internal
 */
import { BirchError } from '../../errors.js';
import { describe, type Codec } from './codec.js';
import { utf8Decode, utf8Encode } from './text.js';

/** 'binary' for `what` ('key' or 'value'): encode copies, decode returns its argument. */
export function binaryCodec(what: string): Codec<Uint8Array | string, Buffer> {
  return Object.freeze({
    encoding: 'binary',
    encode(x: Uint8Array | string): Buffer {
      // As src/api/input.ts: a string is its UTF-8 (a lone surrogate as U+FFFD).
      if (typeof x === 'string') return Buffer.from(x, 'utf8');
      if (x instanceof Uint8Array) return Buffer.from(x);
      throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} must be a Uint8Array, Buffer or string, got ${describe(x)}`);
    },
    decode(b: Buffer): Buffer {
      return b;
    },
  });
}

/** 'utf8' for `what`: strings only; a lone surrogate is refused, bytes that are not UTF-8 are corrupt. */
export function utf8Codec(what: string): Codec<string, string> {
  return Object.freeze({
    encoding: 'utf8',
    encode(x: string): Buffer {
      if (typeof x !== 'string') {
        throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} must be a string (encoding 'utf8'), got ${describe(x)}`);
      }
      return utf8Encode(x, what);
    },
    decode(b: Buffer): string {
      return utf8Decode(b, `${what} (encoding 'utf8')`);
    },
  });
}
