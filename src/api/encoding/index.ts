/**
 * Key and value encodings: what the store puts between application values
 * and the bytes it keeps. For users: README.md, "Key and value encodings";
 * the decisions: docs/DESIGN.md, "Encodings".
 *
 * | file       | what it does                                                      |
 * | ---------- | ----------------------------------------------------------------- |
 * | codec.ts   | the Codec interface; checkEncodedSize, the size limit's error     |
 * | text.ts    | strict UTF-8 both ways                                            |
 * | bytes.ts   | 'binary' and 'utf8', shared by keys and values                    |
 * | tuple.ts   | FoundationDB's tuple layer: encodeTuple, decodeTuple, tupleRange  |
 * | json.ts    | the 'json' value encoding                                         |
 * | msgpack.ts | the 'msgpack' value encoding, with a byte checker before decoding |
 * | keys.ts    | key encodings by name, their types, their prefix bounds           |
 * | values.ts  | value encodings by name, their types                              |
 * | bounds.ts  | range options in a key encoding to byte bounds                    |
 */
export { encodeTuple, decodeTuple, tupleRange, type TupleItem } from './tuple.js';
export { checkEncodedSize, type Codec } from './codec.js';
export {
  keyCodec,
  KEY_ENCODINGS,
  type KeyCodec,
  type KeyEncoding,
  type KeyEncodingFor,
  type KeyInput,
  type KeyInputs,
  type KeyOf,
  type KeyOutputs,
} from './keys.js';
export {
  valueCodec,
  VALUE_ENCODINGS,
  type ValueEncoding,
  type ValueEncodingFor,
  type ValueInput,
  type ValueInputs,
  type ValueOf,
  type ValueOutputs,
} from './values.js';
export { rangeBounds, type ByteBounds, type KeyBound, type KeyRangeOptions } from './bounds.js';
