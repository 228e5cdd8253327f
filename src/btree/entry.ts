/**
 * One pair as a leaf stores it, and the sort key the tree orders by. The
 * byte table is docs/FORMAT.md, "Leaf entry":
 *
 *   | 1 | k: key length | 1 | keyspace | k | key | 1 | flags | 1 | v | v | value | 8 | deadline, if flags & 1 |
 *
 * The *sort key* is the keyspace byte followed by the key (k + 1 bytes, at
 * offset 1): every comparison, separator and head is over sort keys, so the
 * keyspaces are disjoint ranges of one tree. The store's own keys are
 * keyspace 0; tables, the expiry index and the table catalog have their
 * own (below), so none of them can collide with any key a user writes. A
 * separator in a parent page is stored the same way: its length minus one,
 * then its bytes (a separator is a non-empty prefix of a sort key, 1 to 256
 * bytes). So at any entry or separator offset `off`, the sort key is
 * `[off + 1, off + 2 + b[off])`.
 *
 * @internal
 */

/** The store's own keys. */
export const KS_STORE = 0;
/** Keys of tables: a table's id (a varint), then the key. */
export const KS_TABLES = 1;
/** The expiry index: deadline (u64 big-endian), then the expiring entry's sort key; empty value. */
export const KS_EXPIRY = 2;
/** The table catalog: a table's name; the value is its id. */
export const KS_CATALOG = 3;
/** Tables being dropped: the id; their keys are deleted in the background. */
export const KS_DROPPED = 4;
/** The highest keyspace byte a page may hold. */
export const KS_LAST = KS_DROPPED;

/** Flags bit 0: the value is followed by an 8-byte deadline (ms since the epoch, u64 LE). */
export const FLAG_DEADLINE = 1;
/** Bytes of an entry beyond its key and value: key length, keyspace, flags, value length. */
export const ENTRY_OVERHEAD = 4;
export const DEADLINE_SIZE = 8;

const TWO_32 = 0x1_0000_0000;

/** End of the sort key of the entry (or separator) at `off`. */
export function sortKeyEnd(b: Uint8Array, off: number): number {
  return off + 2 + b[off]!;
}

/** Serialized size of the entry at `off`. */
export function entrySizeAt(b: Uint8Array, off: number): number {
  const k = b[off]!;
  return ENTRY_OVERHEAD + k + b[off + 3 + k]! + ((b[off + 2 + k]! & FLAG_DEADLINE) !== 0 ? DEADLINE_SIZE : 0);
}

/** Offset of the value of the entry at `off`; its length is the byte before. */
export function valueStart(b: Uint8Array, off: number): number {
  return off + 4 + b[off]!;
}

/** The entry's deadline in ms since the epoch, or 0 if it has none. */
export function deadlineAt(b: Uint8Array, off: number): number {
  const k = b[off]!;
  if ((b[off + 2 + k]! & FLAG_DEADLINE) === 0) return 0;
  const at = off + 4 + k + b[off + 3 + k]!;
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000 + ((b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0) * TWO_32;
}

/** Whether the entry at `off` has expired at `now` (ms since the epoch). */
export function expiredAt(b: Uint8Array, off: number, now: number): boolean {
  const k = b[off]!;
  return (b[off + 2 + k]! & FLAG_DEADLINE) !== 0 && deadlineAt(b, off) <= now;
}

/** Serialized size of an entry with a key of `k` bytes and a value of `v`. */
export function entrySize(k: number, v: number, deadline: number): number {
  return ENTRY_OVERHEAD + k + v + (deadline > 0 ? DEADLINE_SIZE : 0);
}

/**
 * Write the header of an entry at `at` in `b` (key length, keyspace) and,
 * after the caller has written the key, its flags and value length: the
 * steps in one place. Returns the offset of the key.
 */
export function writeEntryHead(b: Uint8Array, at: number, keyspace: number, k: number): number {
  b[at] = k;
  b[at + 1] = keyspace;
  return at + 2;
}

/** Write flags and value length after a key of `k` bytes; returns the offset of the value. */
export function writeValueHead(b: Uint8Array, at: number, k: number, v: number, deadline: number): number {
  const f = at + 2 + k;
  b[f] = deadline > 0 ? FLAG_DEADLINE : 0;
  b[f + 1] = v;
  return f + 2;
}

/** Write the deadline after a value of `v` bytes that starts at `vs`. */
export function writeDeadline(b: Uint8Array, vs: number, v: number, deadline: number): void {
  const at = vs + v;
  const lo = deadline % TWO_32;
  const hi = Math.floor(deadline / TWO_32);
  b[at] = lo & 0xff;
  b[at + 1] = (lo >>> 8) & 0xff;
  b[at + 2] = (lo >>> 16) & 0xff;
  b[at + 3] = (lo >>> 24) & 0xff;
  b[at + 4] = hi & 0xff;
  b[at + 5] = (hi >>> 8) & 0xff;
  b[at + 6] = (hi >>> 16) & 0xff;
  b[at + 7] = (hi >>> 24) & 0xff;
}

/** One entry serialized on its own (tests, and internal entries). */
export function makeEntry(key: Uint8Array, value: Uint8Array, keyspace = KS_STORE, deadline = 0): Buffer {
  const b = Buffer.allocUnsafe(entrySize(key.length, value.length, deadline));
  const ks = writeEntryHead(b, 0, keyspace, key.length);
  b.set(key, ks);
  const vs = writeValueHead(b, 0, key.length, value.length, deadline);
  b.set(value, vs);
  if (deadline > 0) writeDeadline(b, vs, value.length, deadline);
  return b;
}

/** The sort key of `key` in `keyspace`, as a buffer of its own. */
export function sortKey(key: Uint8Array, keyspace = KS_STORE): Buffer {
  const b = Buffer.allocUnsafe(key.length + 1);
  b[0] = keyspace;
  b.set(key, 1);
  return b;
}

/**
 * A table's id as the prefix of its keys in KS_TABLES (and its key in
 * KS_DROPPED): a varint, 7 bits per byte, low bits first, the high bit set
 * on every byte but the last. No id's prefix is a prefix of another's.
 */
export function tablePrefix(id: number): Buffer {
  const out: number[] = [];
  let n = id;
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** The key of the entry at `off` without its first `skip` bytes of sort key, as a buffer of its own. */
export function keyCopyAt(b: Uint8Array, off: number, skip: number): Buffer {
  const start = off + 1 + skip;
  const end = sortKeyEnd(b, off);
  const out = Buffer.allocUnsafe(end - start);
  for (let i = start; i < end; i++) out[i - start] = b[i]!;
  return out;
}

/** The value of the entry at `off`, as a buffer of its own. */
export function valueCopyAt(b: Uint8Array, off: number): Buffer {
  const vs = valueStart(b, off);
  const len = b[vs - 1]!;
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) out[i] = b[vs + i]!;
  return out;
}
