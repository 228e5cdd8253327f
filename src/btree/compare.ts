/** Byte-string order, and the separators that order needs. @internal */

/**
 * Unsigned byte order of `a[aStart, aEnd)` against `b[bStart, bEnd)`:
 * negative, 0 or positive. A plain loop: for keys this short it beats
 * crossing into Buffer.compare's native code, and keys mostly differ early.
 * Ranges rather than views, because making a Buffer view costs more than
 * comparing two keys.
 */
export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const alen = aEnd - aStart;
  const blen = bEnd - bStart;
  const n = alen < blen ? alen : blen;
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return alen - blen;
}

/**
 * The shortest separator between two adjacent keys `left < right`: the
 * shortest prefix of `right` that sorts after `left` (suffix truncation).
 * Every key <= left sorts before it and every key >= right at or after it,
 * so it bounds the two pages exactly like `right` would, in fewer bytes.
 */
export function shortSeparator(left: Uint8Array, right: Buffer): Buffer {
  const n = Math.min(left.length, right.length);
  let i = 0;
  while (i < n && left[i] === right[i]) i++;
  // right is longer than the common prefix (left < right), so i < right.length.
  return Buffer.from(right.subarray(0, i + 1));
}
