/**
 * Segment files: their names, finding them in a directory listing, and
 * finding the one that holds a block. One home for each, used by the block
 * store and by the command line.
 *
 * @internal
 */

/** A segment file of an open store. */
export interface Segment {
  /** Number of its first block (its name). */
  first: number;
  /** Number of blocks written (committed) to it. */
  blocks: number;
  /** Its size in slots: files are created at their full size (and recorded so, see record.ts). */
  slots: number;
  /** Open descriptor, or undefined until first needed. */
  fd: number | undefined;
}

/** Segment file name for a segment whose first block is `first`. */
export function segmentName(first: number): string {
  return first.toString(16).padStart(16, '0') + '.seg';
}

const SEGMENT_RE = /^[0-9a-f]{16}\.seg$/;

/** The first block number of a segment file name, or undefined if it is not one. */
export function parseSegmentName(name: string): number | undefined {
  return SEGMENT_RE.test(name) ? parseInt(name.slice(0, 16), 16) : undefined;
}

/** The first blocks of the segment files among `names` (a directory listing), ascending. */
export function segmentFirsts(names: readonly string[]): number[] {
  return names
    .map((n) => parseSegmentName(n))
    .filter((n): n is number => n !== undefined)
    .sort((a, b) => a - b);
}

/**
 * Index of the segment holding `block` in `segs` (ascending by first block):
 * the last one whose first block is at or below it, or -1 if none is.
 */
export function segmentIndex(segs: readonly { first: number }[], block: number): number {
  let lo = 0;
  let hi = segs.length - 1;
  if (hi < 0 || block < segs[0]!.first) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid]!.first <= block) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
