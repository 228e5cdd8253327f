/**
 * The memory of clean nodes. A clean node's page and its two u32 arrays
 * (entry or separator offsets, and key heads) live in ONE ArrayBuffer, its
 * *record*: allocating an ArrayBuffer costs far more than a view of one
 * (about a microsecond here, and more again when the garbage collector frees
 * it), and a clean node would otherwise need three.
 *
 * Records are reused. When a commit replaces clean nodes and no reader
 * holds an older commit (no pins), nothing can read those nodes again: the
 * batch that replaced them is done, readers start from the new root, and
 * every snapshot or iterator pins the commit it reads. Their records then go
 * to a pool that the next commit's pages (and cache misses) are cut from,
 * so a store under steady random writes allocates almost nothing per page.
 * Records are sized in steps of 256 bytes so that one fits the next page of
 * about the same size; the pool holds at most 32 MiB. In strict mode a
 * record is filled with 0xEE as it enters the pool, so a reader that was
 * wrongly let go of sees garbage, not plausible old data.
 *
 * @internal
 */

/** Records are sized in multiples of this many bytes. */
const GRAIN = 256;

export class RecordPool {
  /** Free records by size class (byteLength / GRAIN). */
  private readonly free: ArrayBuffer[][] = [];
  private bytes = 0;

  constructor(private readonly limit = 32 * 1024 * 1024) {}

  /** A record of at least `size` bytes: a free one of its size class, or a new one. */
  take(size: number): ArrayBuffer {
    const cls = Math.ceil(size / GRAIN);
    const ab = this.free[cls]?.pop();
    if (ab !== undefined) {
      this.bytes -= ab.byteLength;
      return ab;
    }
    return Buffer.allocUnsafeSlow(cls * GRAIN).buffer as ArrayBuffer;
  }

  /** `ab`, a record nothing will read again, may be handed out anew (poisoned first, if asked). */
  give(ab: ArrayBuffer, poison: boolean): void {
    if (this.bytes + ab.byteLength > this.limit) return;
    if (poison) new Uint8Array(ab).fill(0xee);
    (this.free[ab.byteLength / GRAIN] ??= []).push(ab);
    this.bytes += ab.byteLength;
  }

  /** Bytes of free records held. */
  get held(): number {
    return this.bytes;
  }
}

/** The process's pool: records are sized by bytes only, so every store can share it. */
export const records = new RecordPool();

/** A clean node's memory: its page of `pageBytes` bytes and two u32 arrays of `n`, in one record. */
export function newRecord(pageBytes: number, n: number): { record: ArrayBuffer; page: Buffer; offs: Uint32Array; heads: Uint32Array } {
  const at = (pageBytes + 3) & ~3;
  const record = records.take(at + 8 * n);
  return {
    record,
    page: Buffer.from(record, 0, pageBytes),
    offs: new Uint32Array(record, at, n),
    heads: new Uint32Array(record, at + 4 * n, n),
  };
}
