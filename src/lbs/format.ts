/**
 * The block store's bytes: the meta file `birch.meta` and the block slots of
 * the segment files. The byte tables are in docs/FORMAT.md ("Meta file" and
 * "Block slot"), the one copy that test/docs/format.test.ts checks against a
 * real store; the encoders and decoders below follow them exactly, and the
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
export const FORMAT_VERSION = 1;

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

export function encodeMeta(blockSize: number): Buffer {
  const buf = Buffer.alloc(META_SIZE);
  buf.write(META_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(blockSize, 12);
  buf.writeUInt32LE(crc32(buf, 0, 28), 28);
  return buf;
}

export type MetaResult =
  | { ok: true; blockSize: number }
  | { ok: false; reason: 'foreign' | 'corrupt'; message: string };

export function decodeMeta(buf: Buffer): MetaResult {
  if (buf.length < 8 || buf.toString('latin1', 0, 8) !== META_MAGIC) {
    return { ok: false, reason: 'foreign', message: 'meta file does not start with BIRCHLBS' };
  }
  if (buf.length !== META_SIZE || buf.readUInt32LE(28) !== crc32(buf, 0, 28)) {
    return { ok: false, reason: 'corrupt', message: 'meta file fails its checksum' };
  }
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    return { ok: false, reason: 'corrupt', message: `unknown format version ${version}` };
  }
  const blockSize = buf.readUInt32LE(12);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    return { ok: false, reason: 'corrupt', message: `block size ${blockSize} out of range` };
  }
  return { ok: true, blockSize };
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
