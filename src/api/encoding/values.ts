/**
 * Value encodings: 'binary' (the default: bytes, or a string as UTF-8;
 * values come back as Buffers), 'utf8' (strings), 'json' (json.ts) and
 * 'msgpack' (msgpack.ts).
 */
import { BirchError } from '../../errors.js';
import { binaryCodec, utf8Codec } from './bytes.js';
import { describe, type Codec } from './codec.js';
import { jsonCodec } from './json.js';
import { msgpackCodec } from './msgpack.js';

export type ValueEncoding = 'binary' | 'utf8' | 'json' | 'msgpack';

/** The value encodings, in the order error messages list them. */
export const VALUE_ENCODINGS: readonly ValueEncoding[] = Object.freeze(['binary', 'utf8', 'json', 'msgpack']);

/** What each value encoding accepts in put. json and msgpack check the
 * value itself (see json.ts, msgpack.ts); their static type is the
 * caller's, as in `db.table<K, User>`. */
export interface ValueInputs {
  binary: Uint8Array | string;
  utf8: string;
  json: unknown;
  msgpack: unknown;
}

/** What each value encoding gives back from get and range. */
export interface ValueOutputs {
  binary: Buffer;
  utf8: string;
  json: unknown;
  msgpack: unknown;
}

/** The type a value encoding accepts, e.g. `ValueInput<'utf8'>` is `string`. */
export type ValueInput<E extends ValueEncoding> = ValueInputs[E];

/** The type a value encoding gives back, e.g. `ValueOf<'binary'>` is `Buffer`. */
export type ValueOf<E extends ValueEncoding> = ValueOutputs[E];

/** The value encodings that can hold values of type V (json and msgpack: any). */
export type ValueEncodingFor<V> =
  | 'json'
  | 'msgpack'
  | ([V] extends [string] ? 'utf8' : never)
  | ([V] extends [Uint8Array] ? 'binary' : never);

const VALUE_CODECS: { [E in ValueEncoding]: Codec<ValueInput<E>, ValueOf<E>> } = {
  binary: binaryCodec('value'),
  utf8: utf8Codec('value'),
  json: jsonCodec,
  msgpack: msgpackCodec,
};

/** The codec of value encoding `e`; BIRCH_BAD_ARGUMENT for a name that is not one. */
export function valueCodec<E extends ValueEncoding>(e: E): Codec<ValueInput<E>, ValueOf<E>> {
  if (typeof e !== 'string' || !Object.hasOwn(VALUE_CODECS, e)) {
    throw new BirchError(
      'BIRCH_BAD_ARGUMENT',
      `valueEncoding must be ${VALUE_ENCODINGS.map((n) => `'${n}'`).join(', ')}; got ${typeof e === 'string' ? `'${e}'` : describe(e)}`,
    );
  }
  return VALUE_CODECS[e] as Codec<ValueInput<E>, ValueOf<E>>;
}
