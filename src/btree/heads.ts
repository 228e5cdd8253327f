/**
 * Prefix truncation and integer key heads for searching clean nodes
 * (Graefe, "Modern B-Tree Techniques": prefix truncation, poor man's
 * normalized keys).
 *
 * The keys of one node (a leaf's keys, a parent's separators) are sorted, so
 * they all share the prefix their first and last share. A clean node keeps
 * that prefix's length and, for each key, its *head*: the 4 bytes after the
 * prefix as a big-endian u32, zero-padded past the key's end. Heads order
 * like the keys do, except that equal heads say nothing (the keys may differ
 * further on, or in length): a search compares the search key's prefix with
 * the node's once, then compares heads, integers in one typed array, and
 * reads key bytes only when two heads are equal. Keys whose first bytes are
 * alike (kivaloo's keys start with an 8-byte group number) stop costing a
 * byte loop per probe.
 *
 * @internal
 */

/** The u32 made of `b[at, at+4)`, big-endian, with bytes at or past `end` read as 0. */
export function headAt(b: Uint8Array, at: number, end: number): number {
  if (at + 4 <= end) return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  let h = 0;
  for (let j = 0; j < 4; j++) h = h * 256 + (at + j < end ? b[at + j]! : 0);
  return h;
}

/** Length of the common prefix of `a[as, ae)` and `b[bs, be)`. */
export function commonPrefix(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  let i = 0;
  while (i < n && a[as + i] === b[bs + i]) i++;
  return i;
}

/**
 * Fill `heads` with the heads of the sort keys at `offs[i]` in `page`
 * (entry.ts: at `off + 1`, `page[off] + 1` bytes long), below a shared prefix
 * of `prefix` bytes. Returns `heads`.
 */
export function fillHeads(heads: Uint32Array, page: Uint8Array, offs: Uint32Array, prefix: number): Uint32Array {
  const n = offs.length;
  for (let i = 0; i < n; i++) {
    const off = offs[i]!;
    heads[i] = headAt(page, off + 1 + prefix, off + 2 + page[off]!);
  }
  return heads;
}

/**
 * The prefix shared by every sort key at `offs[i]` in `page` (entry.ts: at
 * `off + 1`, `page[off] + 1` bytes long); sorted keys, so the first and last
 * decide.
 */
export function prefixOf(page: Uint8Array, offs: Uint32Array): number {
  const n = offs.length;
  if (n < 2) return 0;
  const a = offs[0]!;
  const z = offs[n - 1]!;
  return commonPrefix(page, a + 1, a + 2 + page[a]!, page, z + 1, z + 2 + page[z]!);
}
