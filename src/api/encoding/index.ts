/**
 * Key and value encodings: what the store puts between application values
 * and the bytes it keeps. See docs/ENCODINGS-DRAFT.md.
 */
export { encodeTuple, decodeTuple, tupleRange, type TupleItem } from './tuple.js';
export { checkEncodedSize, type Codec } from './codec.js';
