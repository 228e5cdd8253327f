/**
 * Key encodings: 'binary' (the default: bytes, or a string as UTF-8; keys
 * come back as Buffers), 'utf8' (strings in, strings out) and 'tuple'
 * (arrays of TupleItem in and out, FoundationDB's tuple layer). Every one
 * keeps order: keys sort by their bytes, which for 'utf8' is Unicode code
 * point order and for 'tuple' the tuple order (see tuple.ts).
 */
import { BirchError } from '../../errors.js';
import { binaryCodec, utf8Codec } from './bytes.js';
import { describe, type Codec } from './codec.js';
import { decodeTuple, encodeTuple, tupleRange, type TupleItem } from './tuple.js';

export type KeyEncoding = 'binary' | 'utf8' | 'tuple';

/** The key encodings, in the order error messages list them. */
export const KEY_ENCODINGS: readonly KeyEncoding[] = Object.freeze(['binary', 'utf8', 'tuple']);

/** What each key encoding accepts: in put, get, delete and range bounds. */
export interface KeyInputs {
  binary: Uint8Array | string;
  utf8: string;
  tuple: readonly TupleItem[];
}

/** What each key encoding gives back: from range and keys. */
export interface KeyOutputs {
  binary: Buffer;
  utf8: string;
  tuple: TupleItem[];
}

/** The type a key encoding accepts, e.g. `KeyInput<'tuple'>` is `readonly TupleItem[]`. */
export type KeyInput<E extends KeyEncoding> = KeyInputs[E];

/** The type a key encoding gives back, e.g. `KeyOf<'utf8'>` is `string`. */
export type KeyOf<E extends KeyEncoding> = KeyOutputs[E];

/**
 * The key encodings whose keys can be of type K: for a table typed by hand,
 * as in `db.table<[string, number], User>(...)`, where K says which
 * `keyEncoding` the options may name.
 */
export type KeyEncodingFor<K> =
  | ([K] extends [readonly TupleItem[]] ? 'tuple' : never)
  | ([K] extends [string] ? 'utf8' : never)
  | ([K] extends [Uint8Array] ? 'binary' : never);

export interface KeyCodec<In, Out = In> extends Codec<In, Out> {
  readonly encoding: KeyEncoding;
  /** The byte bounds of the keys that `prefix` covers: for 'binary' and
   * 'utf8' the keys whose bytes start with its bytes (`lt` is absent when
   * there is no upper bound: a prefix of FF bytes, or the empty one); for
   * 'tuple' the tuples that extend it by at least one item (tupleRange). */
  prefix(p: In): { gte: Buffer; lt?: Buffer };
}

/**
 * The least byte string greater than every string with this prefix, or
 * undefined if none (the prefix is all FF bytes, or empty). The store's
 * range options (src/api/input.ts) use it too: the encodings import nothing
 * from the store, so that they stand alone.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = Buffer.from(prefix.subarray(0, n));
  end[n - 1]!++;
  return end;
}

function bytePrefix(b: Buffer): { gte: Buffer; lt?: Buffer } {
  const lt = prefixEnd(b);
  return lt === undefined ? { gte: b } : { gte: b, lt };
}

const binaryKey = binaryCodec('key');
const utf8Key = utf8Codec('key');

const KEY_CODECS: { [E in KeyEncoding]: KeyCodec<KeyInput<E>, KeyOf<E>> } = {
  binary: Object.freeze({
    ...binaryKey,
    encoding: 'binary',
    prefix: (p: Uint8Array | string) => bytePrefix(binaryKey.encode(p)),
  }),
  utf8: Object.freeze({
    ...utf8Key,
    encoding: 'utf8',
    prefix: (p: string) => bytePrefix(utf8Key.encode(p)),
  }),
  tuple: Object.freeze({
    encoding: 'tuple',
    encode(x: readonly TupleItem[]): Buffer {
      if (!Array.isArray(x)) {
        throw new BirchError('BIRCH_BAD_ARGUMENT', `key must be an array (encoding 'tuple'), got ${describe(x)}`);
      }
      return encodeTuple(x);
    },
    decode: decodeTuple,
    prefix(p: readonly TupleItem[]): { gte: Buffer; lt: Buffer } {
      if (!Array.isArray(p)) {
        throw new BirchError('BIRCH_BAD_ARGUMENT', `prefix must be an array (encoding 'tuple'), got ${describe(p)}`);
      }
      return tupleRange(p);
    },
  }),
};

/** The codec of key encoding `e`; BIRCH_BAD_ARGUMENT for a name that is not one. */
export function keyCodec<E extends KeyEncoding>(e: E): KeyCodec<KeyInput<E>, KeyOf<E>> {
  if (typeof e !== 'string' || !Object.hasOwn(KEY_CODECS, e)) {
    throw new BirchError(
      'BIRCH_BAD_ARGUMENT',
      `keyEncoding must be ${KEY_ENCODINGS.map((n) => `'${n}'`).join(', ')}; got ${typeof e === 'string' ? `'${e}'` : describe(e)}`,
    );
  }
  return KEY_CODECS[e] as unknown as KeyCodec<KeyInput<E>, KeyOf<E>>;
}
