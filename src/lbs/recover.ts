/**
 * Recovery of the log's tail, run when the store opens.
 *
 * Only the last segment is read: everything before it was complete and
 * fsynced before that segment was created, so the cost of opening does not
 * grow with the store. Within the last segment, appends are walked by their
 * first block's header (which says how many blocks the append has). The walk
 * stops at the first append that is not entirely present and valid: its
 * blocks were written by one write() and the OS may have written them out of
 * order, so every block of the final append is verified, not just one.
 *
 * Everything from that point on is a torn append, to be cleared (open.ts
 * zeroes it: segment files keep their full size), unless a valid block from
 * a LATER append lies beyond it: that append was only written after the
 * earlier one was fsynced, so the earlier one was complete once and is now
 * damaged. That is corruption, and it is reported, never cleared.
 *
 * The file is read in chunks of about 1 MiB, so a fresh segment's zero
 * slots cost few system calls.
 *
 * @internal
 */
import { corrupt } from '../errors.js';
import type { FileIO } from './fileio.js';
import { decodeBlock, type BlockHeader } from './format.js';

export interface TailResult {
  /** Number of valid blocks at the start of the segment. */
  blocks: number;
  /** Where the last of those appends starts (a slot; equal to `blocks` when there are none). */
  lastAppend: number;
  /** The file's size in bytes. */
  size: number;
  /** Whole slots in the file. */
  slots: number;
  /** Slots at or past `blocks` that hold anything but zeros, as [from, to) runs. */
  dirty: [number, number][];
}

const CHUNK_BYTES = 1 << 20;

export function recoverTail(io: FileIO, fd: number, file: string, first: number, blockSize: number): TailResult {
  const size = io.sizeSync(fd);
  const slots = Math.floor(size / blockSize);
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / blockSize));
  const chunk = Buffer.allocUnsafe(Math.min(slots, perChunk) * blockSize);
  const zero = Buffer.alloc(blockSize);
  let chunkFirst = 0;
  let chunkSlots = 0;

  /** Offset of `slot` in `chunk`, reading the chunk that starts at it if needed. */
  const load = (slot: number): number => {
    if (slot < chunkFirst || slot >= chunkFirst + chunkSlots) {
      const want = Math.min(perChunk, slots - slot) * blockSize;
      let got = 0;
      while (got < want) {
        const n = io.readSync(fd, chunk, got, want - got, slot * blockSize + got);
        if (n === 0) break;
        got += n;
      }
      chunkFirst = slot;
      chunkSlots = Math.floor(got / blockSize);
      if (chunkSlots === 0) return -1;
    }
    return (slot - chunkFirst) * blockSize;
  };

  const readSlot = (slot: number): BlockHeader | undefined => {
    const at = load(slot);
    if (at < 0) return undefined;
    const h = decodeBlock(chunk, at, blockSize);
    return h !== undefined && h.blockNo === first + slot ? h : undefined;
  };

  // Walk whole appends; verify each one fully (this reads the segment once).
  let pos = 0;
  let lastAppend = 0;
  while (pos < slots) {
    const h = readSlot(pos);
    if (h === undefined || h.appendFirst !== first + pos || pos + h.appendCount > slots) break;
    let whole = true;
    for (let i = 1; i < h.appendCount; i++) {
      const b = readSlot(pos + i);
      if (b === undefined || b.appendFirst !== h.appendFirst || b.appendCount !== h.appendCount) {
        whole = false;
        break;
      }
    }
    if (!whole) break;
    lastAppend = pos;
    pos += h.appendCount;
  }

  // Anything valid beyond `pos` must belong to the torn append that starts
  // there; note every slot that is not zero (the torn append's remains).
  const dirty: [number, number][] = [];
  for (let slot = pos; slot < slots; slot++) {
    const at = load(slot);
    if (at >= 0 && chunk.compare(zero, 0, blockSize, at, at + blockSize) === 0) continue;
    const h = readSlot(slot);
    if (h !== undefined && h.appendFirst !== first + pos) {
      throw corrupt(
        `block ${first + pos} is damaged but block ${h.blockNo} of a later append was written after it`,
        file,
        pos * blockSize,
      );
    }
    const run = dirty[dirty.length - 1];
    if (run !== undefined && run[1] === slot) run[1] = slot + 1;
    else dirty.push([slot, slot + 1]);
  }
  return { blocks: pos, lastAppend: pos === 0 ? 0 : lastAppend, size, slots, dirty };
}
