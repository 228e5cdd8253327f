/**
 * Where queued writes keep their pairs until they are committed: each pair
 * serialized as the one entry a leaf holds (key length, key, value length,
 * value; node.ts), packed one after another into large buffers.
 *
 * One copy per pair protects the store from later changes to the caller's
 * buffers, and the leaf stores the entry as is (a dirty leaf refers to it by
 * buffer and offset), so entries that land side by side in a leaf, as a
 * load in key order does, are serialized in one copy. A buffer of its own
 * per pair would cost an object each, and Node's 8 KiB pool a new
 * ArrayBuffer every hundred pairs. A chunk is garbage once the commits of
 * the writes in it are durable.
 *
 * @internal
 */
export class EntryArena {
  private chunk: Buffer;
  private used = 0;

  constructor(private readonly chunkSize = 256 * 1024) {
    this.chunk = Buffer.allocUnsafeSlow(chunkSize);
  }

  /** Room for an entry of `size` bytes (at most 512): the buffer it goes in; `at` says where. */
  reserve(size: number): Buffer {
    if (this.used + size > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(this.chunkSize);
      this.used = 0;
    }
    this.at = this.used;
    this.used += size;
    return this.chunk;
  }

  /** Offset of the entry reserve() made room for last. */
  at = 0;
}

/** Copy `src` into `dst` at `at` (TypedArray.set: 15 ns for 40 bytes here, a byte loop 30 to 45). */
export function copyInto(dst: Uint8Array, at: number, src: Uint8Array): void {
  dst.set(src, at);
}
