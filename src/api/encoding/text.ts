/**
 * Strict UTF-8, the one text conversion of the encodings: a string that
 * UTF-8 cannot hold exactly is refused on the way in, and bytes that are not
 * UTF-8 are refused on the way out, so text never changes silently.
 *
 * Buffer.from(s, 'utf8') writes a lone surrogate (half of a UTF-16 pair) as
 * U+FFFD, and buf.toString('utf8') reads malformed bytes as U+FFFD: both
 * would hand back a different string than the one stored. TextDecoder would
 * also drop a leading byte-order mark; Buffer's decoder keeps it.
 *
 * @internal
 */
import { isUtf8 } from 'node:buffer';
import { BirchError } from '../../errors.js';

/** True when every surrogate in `s` is half of a pair (String.prototype.isWellFormed, Node 20). */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** `s` as UTF-8; BIRCH_BAD_ARGUMENT naming `what` if it holds a lone surrogate. */
export function utf8Encode(s: string, what: string): Buffer {
  if (!isWellFormed(s)) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `${what} holds a lone UTF-16 surrogate, which UTF-8 cannot encode`);
  }
  return Buffer.from(s, 'utf8');
}

/** `b` as text; BIRCH_CORRUPT naming `what` if it is not well-formed UTF-8. */
export function utf8Decode(b: Uint8Array, what: string): string {
  if (!isUtf8(b)) throw new BirchError('BIRCH_CORRUPT', `${what} is not valid UTF-8`);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}
