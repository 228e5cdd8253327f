/**
 * The block store's bytes: the meta file `birch.meta`, the block slots of
 * the segment files and the entries of the segment record `birch.segments`.
 * The byte tables are in docs/FORMAT.md ("Meta file", "Block slot" and
 * "Record entry"), the one copy that test/docs/format.test.ts checks against
 * a real store; the encoders and decoders below follow them exactly, and the
 * constants here must change with them.
 *
 * Block numbers are u64 on disk and JS numbers here: at one million blocks a
 * second it would take 285 years to pass 2^53, so they are written as two
 * 32-bit halves and read back exactly.
 *
 * @internal
 */
import * as zlib from 'node:zlib';
import CRC32 from 'crc-32';

export const META_FILE = 'birch.meta';
export const LOCK_FILE = 'birch.lock';
export const META_TMP_FILE = 'birch.meta.tmp';
export const META_SIZE = 32;
export const META_MAGIC = 'BIRCHLBS';
/**
 * 2: segment files are created at their full size and listed in the segment
 * record (record.ts). 1 (the first builds): neither, and its pages are of an older
 * format too (the B+tree's page format has its own version, in the commit
 * trailer's magic): refused with BIRCH_VERSION.
 */
export const FORMAT_VERSION = 2;

export const RECORD_FILE = 'birch.segments';
export const RECORD_TMP_FILE = 'birch.segments.tmp';
export const RECORD_ENTRY_SIZE = 32;
export const RECORD_MAGIC = 'BSEG';
/** Record entry kinds: a segment file was created (with `slots` slots), or every segment below `first` was freed. */
export const RECORD_CREATED = 1;
export const RECORD_FREED = 2;

export const BLOCK_HEADER_SIZE = 32;
export const MIN_BLOCK_SIZE = 512;
export const MAX_BLOCK_SIZE = 65536;
export const DEFAULT_BLOCK_SIZE = 4096;

const TWO_32 = 0x1_0000_0000;

/**
 * CRC-32 (IEEE 802.3, the zlib polynomial). Node's own zlib.crc32 (Node
 * >= 20.15) computes the same function about twice as fast as the crc-32
 * package, which remains the fallback on older Node 20 releases.
 */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
export const crc32: (buf: Uint8Array, start: number, end: number) => number =
  zlibCrc32 !== undefined
    ? (buf, start, end) => zlibCrc32(buf.subarray(start, end), 0) >>> 0
    : (buf, start, end) => CRC32.buf(buf.subarray(start, end), 0) >>> 0;

export function writeU64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32LE(n % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(n / TWO_32), offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32;
}

export function encodeMeta(blockSize: number, version = FORMAT_VERSION): Buffer {
  const buf = Buffer.alloc(META_SIZE);
  buf.write(META_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(version, 8);
  buf.writeUInt32LE(blockSize, 12);
  buf.writeUInt32LE(crc32(buf, 0, 28), 28);
  return buf;
}

export type MetaResult =
  | { ok: true; blockSize: number; version: number }
  | { ok: false; reason: 'foreign' | 'corrupt' | 'version'; message: string };

export function decodeMeta(buf: Buffer): MetaResult {
  if (buf.length < 8 || buf.toString('latin1', 0, 8) !== META_MAGIC) {
    return { ok: false, reason: 'foreign', message: 'meta file does not start with BIRCHLBS' };
  }
  if (buf.length !== META_SIZE || buf.readUInt32LE(28) !== crc32(buf, 0, 28)) {
    return { ok: false, reason: 'corrupt', message: 'meta file fails its checksum' };
  }
  const version = buf.readUInt32LE(8);
  if (version === 1) {
    return {
      ok: false,
      reason: 'version',
      message: `the store is in format version 1 (an earlier birch); this birch reads version ${FORMAT_VERSION}: export it with that birch (birch dump) and load it into a new store (birch load)`,
    };
  }
  if (version !== FORMAT_VERSION) {
    return {
      ok: false,
      reason: version > FORMAT_VERSION && version < 1000 ? 'version' : 'corrupt',
      message: `unknown format version ${version} (this birch reads ${FORMAT_VERSION}; a newer birch wrote it?)`,
    };
  }
  const blockSize = buf.readUInt32LE(12);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    return { ok: false, reason: 'corrupt', message: `block size ${blockSize} out of range` };
  }
  return { ok: true, blockSize, version };
}

export interface BlockHeader {
  blockNo: number;
  appendFirst: number;
  appendCount: number;
  length: number;
}

/** Fill slot `buf[at, at+blockSize)` with a block, its header and zero padding. */
export function encodeBlock(buf: Buffer, at: number, blockSize: number, h: BlockHeader, payload: Uint8Array): void {
  writeU64(buf, at + 4, h.blockNo);
  writeU64(buf, at + 12, h.appendFirst);
  buf.writeUInt32LE(h.appendCount, at + 20);
  buf.writeUInt32LE(payload.length, at + 24);
  buf.writeUInt32LE(0, at + 28);
  buf.set(payload, at + BLOCK_HEADER_SIZE);
  buf.fill(0, at + BLOCK_HEADER_SIZE + payload.length, at + blockSize);
  buf.writeUInt32LE(crc32(buf, at + 4, at + BLOCK_HEADER_SIZE + payload.length), at);
}

/**
 * Decode and verify the slot at `buf[at, at+blockSize)`. Returns the header if
 * the CRC and field bounds hold, or undefined if the slot is not a valid block.
 */
export function decodeBlock(buf: Buffer, at: number, blockSize: number): BlockHeader | undefined {
  const length = buf.readUInt32LE(at + 24);
  if (length > blockSize - BLOCK_HEADER_SIZE) return undefined;
  if (buf.readUInt32LE(at) !== crc32(buf, at + 4, at + BLOCK_HEADER_SIZE + length)) return undefined;
  if (buf.readUInt32LE(at + 28) !== 0) return undefined;
  const appendCount = buf.readUInt32LE(at + 20);
  if (appendCount === 0) return undefined;
  return {
    blockNo: readU64(buf, at + 4),
    appendFirst: readU64(buf, at + 12),
    appendCount,
    length,
  };
}

/** One entry of the segment record. */
export interface RecordEntry {
  kind: typeof RECORD_CREATED | typeof RECORD_FREED;
  /** created: the segment's first block (its name); freed: every segment whose first block is below this is freed. */
  first: number;
  /** created: the file's size in slots when it was created; freed: 0. */
  slots: number;
}

/** Write entry `e` into `buf[at, at + RECORD_ENTRY_SIZE)`. */
export function encodeRecordEntry(buf: Buffer, at: number, e: RecordEntry): void {
  buf.fill(0, at, at + RECORD_ENTRY_SIZE);
  buf.write(RECORD_MAGIC, at + 4, 'latin1');
  buf.writeUInt32LE(e.kind, at + 8);
  buf.writeUInt32LE(e.slots, at + 12);
  writeU64(buf, at + 16, e.first);
  buf.writeUInt32LE(crc32(buf, at + 4, at + RECORD_ENTRY_SIZE), at);
}

/** The entry at `buf[at, at + RECORD_ENTRY_SIZE)`, or undefined if it is not a valid one. */
export function decodeRecordEntry(buf: Buffer, at: number): RecordEntry | undefined {
  if (buf.length < at + RECORD_ENTRY_SIZE) return undefined;
  if (buf.readUInt32LE(at) !== crc32(buf, at + 4, at + RECORD_ENTRY_SIZE)) return undefined;
  if (buf.toString('latin1', at + 4, at + 8) !== RECORD_MAGIC) return undefined;
  if (buf.readUInt32LE(at + 24) !== 0 || buf.readUInt32LE(at + 28) !== 0) return undefined;
  const kind = buf.readUInt32LE(at + 8);
  const slots = buf.readUInt32LE(at + 12);
  if (kind === RECORD_CREATED) return { kind, first: readU64(buf, at + 16), slots };
  if (kind === RECORD_FREED && slots === 0) return { kind, first: readU64(buf, at + 16), slots };
  return undefined;
}
