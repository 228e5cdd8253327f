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
 * Everything from that point on is a torn append and is cut away, unless a
 * valid block from a LATER append lies beyond it: that append was only
 * written after the earlier one was fsynced, so the earlier one was complete
 * once and is now damaged. That is corruption, and it is reported, never
 * truncated.
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
  /** Whether the file held anything past them (now to be truncated). */
  truncated: boolean;
}

export function recoverTail(io: FileIO, fd: number, file: string, first: number, blockSize: number): TailResult {
  const size = io.sizeSync(fd);
  const slots = Math.floor(size / blockSize);
  const buf = Buffer.allocUnsafe(blockSize);

  const readSlot = (slot: number): BlockHeader | undefined => {
    const n = io.readSync(fd, buf, 0, blockSize, slot * blockSize);
    if (n !== blockSize) return undefined;
    const h = decodeBlock(buf, 0, blockSize);
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

  // Anything valid beyond `pos` must belong to the torn append that starts there.
  for (let slot = pos; slot < slots; slot++) {
    const h = readSlot(slot);
    if (h !== undefined && h.appendFirst !== first + pos) {
      throw corrupt(
        `block ${first + pos} is damaged but block ${h.blockNo} of a later append was written after it`,
        file,
        pos * blockSize,
      );
    }
  }
  return { blocks: pos, lastAppend: pos === 0 ? 0 : lastAppend, truncated: size !== pos * blockSize };
}
