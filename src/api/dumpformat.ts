/**
 * The dump format: a portable, line-oriented text form of a store's pairs,
 * written by dump() and read by load(). Documented in README.md ("Dump and
 * load"); this file is its one implementation.
 *
 *     birch-dump<TAB>1                     header: format name, version
 *     <key hex><TAB><value hex>            one line per pair, in key order
 *     ...
 *     birch-dump-end<TAB><pairs>           end: the number of pair lines
 *
 * Lines end with LF. Keys and values are 0 to 255 bytes, written as
 * lower-case hex (two digits per byte; empty bytes, empty field), so any
 * bytes round-trip exactly and the file is plain ASCII. The end line lets a
 * reader tell a whole dump from one cut short.
 *
 * Room for more: version 1 has exactly two fields per pair line. Per-entry
 * metadata that a later birch keeps (an expiry deadline, a table) will come
 * as further TAB-separated fields, in a version 2 that says so in its
 * header; a version-1 reader refuses such a file at its header rather than
 * load it without the metadata.
 *
 * The RESP form (for `redis-cli --pipe`) is one `SET key value` command per
 * pair in the Redis protocol, binary-safe, with no header or end line.
 *
 * @internal
 */
import { MAX_KEY_SIZE, MAX_VALUE_SIZE } from '../btree/index.js';

export const DUMP_FORMAT = 'birch-dump';
export const DUMP_VERSION = 1;
export const DUMP_HEADER = `${DUMP_FORMAT}\t${DUMP_VERSION}\n`;
export const DUMP_END = `${DUMP_FORMAT}-end`;

/** The most bytes pairLine() writes for one pair. */
export const MAX_PAIR_LINE = 2 * MAX_KEY_SIZE + 1 + 2 * MAX_VALUE_SIZE + 1;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Write the pair line (LF included) into `buf` at `at`; returns the end. */
export function writePairLine(buf: Buffer, at: number, key: Uint8Array, value: Uint8Array): number {
  for (let i = 0; i < key.length; i++) {
    const b = key[i]!;
    buf[at++] = HEX_DIGITS[b >> 4]!;
    buf[at++] = HEX_DIGITS[b & 15]!;
  }
  buf[at++] = 9; // TAB
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    buf[at++] = HEX_DIGITS[b >> 4]!;
    buf[at++] = HEX_DIGITS[b & 15]!;
  }
  buf[at++] = 10; // LF
  return at;
}

export function endLine(pairs: number): string {
  return `${DUMP_END}\t${pairs}\n`;
}

/** The most bytes writeRespSet() writes for one pair. */
export const MAX_RESP_SET = 23 + 3 + 3 + MAX_KEY_SIZE + MAX_VALUE_SIZE;

/** Write the RESP `SET key value` command into `buf` at `at`; returns the end. */
export function writeRespSet(buf: Buffer, at: number, key: Buffer, value: Buffer): number {
  at += buf.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n`, at, 'latin1');
  at += key.copy(buf, at);
  at += buf.write(`\r\n$${value.length}\r\n`, at, 'latin1');
  at += value.copy(buf, at);
  at += buf.write('\r\n', at, 'latin1');
  return at;
}

/** The value of each lower-case hex digit, or 255 for any other byte. */
const HEX_VALUE = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX_DIGITS[i]!] = i;

/** What one line of a dump is: a pair, the end line; or why it is neither. */
export type ParsedLine =
  | { kind: 'pair' }
  | { kind: 'end'; pairs: number }
  | { kind: 'bad'; why: string };

/** Check the header line (without its LF); returns why it is not a version-1 header, or undefined. */
export function checkHeader(line: string): string | undefined {
  const f = line.split('\t');
  if (f[0] !== DUMP_FORMAT) {
    return `not a birch dump: the first line must be "${DUMP_FORMAT}<TAB>${DUMP_VERSION}", not "${clip(line)}"`;
  }
  if (f.length !== 2 || !/^\d+$/.test(f[1]!)) return `malformed header "${clip(line)}"`;
  if (Number(f[1]) !== DUMP_VERSION) {
    return `birch dump version ${f[1]} is not one this birch reads (it reads version ${DUMP_VERSION}; a newer birch wrote it?)`;
  }
  return undefined;
}

/** A parsed pair's key and value: `out[keyAt, keyAt + keyLen)`, then `[valueAt, valueAt + valueLen)`. */
export interface PairSpan {
  keyAt: number;
  keyLen: number;
  valueAt: number;
  valueLen: number;
}

/**
 * Parse the line `line[from, to)` (LF excluded), a line after the header.
 * A pair's bytes are decoded into `out` at `at` (room for 510 bytes
 * needed), its place put in `span`.
 */
export function parseLine(line: Buffer, from: number, to: number, out: Buffer, at: number, span: PairSpan): ParsedLine {
  const tab = line.indexOf(9, from);
  if (tab < 0 || tab >= to) return { kind: 'bad', why: `no TAB between key and value in "${clip(line.toString('latin1', from, to))}"` };
  if (tab - from === DUMP_END.length && line.toString('latin1', from, tab) === DUMP_END) {
    const n = line.toString('latin1', tab + 1, to);
    if (!/^\d+$/.test(n)) return { kind: 'bad', why: `malformed end line "${clip(line.toString('latin1', from, to))}"` };
    return { kind: 'end', pairs: Number(n) };
  }
  const k = decodeHex(line, from, tab, out, at, 'key', MAX_KEY_SIZE);
  if (typeof k === 'string') return { kind: 'bad', why: k };
  const v = decodeHex(line, tab + 1, to, out, at + k, 'value', MAX_VALUE_SIZE);
  if (typeof v === 'string') return { kind: 'bad', why: v };
  span.keyAt = at;
  span.keyLen = k;
  span.valueAt = at + k;
  span.valueLen = v;
  return PAIR;
}

const PAIR: ParsedLine = { kind: 'pair' };

/** Decode the hex in `src[from, to)` into `out` at `at`; returns the byte count, or why it is not a field. */
function decodeHex(src: Buffer, from: number, to: number, out: Buffer, at: number, what: string, max: number): number | string {
  const len = to - from;
  if (len % 2 !== 0 || len > 2 * max) {
    for (let i = from; i < to; i++) if (src[i] === 9) return 'more than two fields (per-entry fields are not part of version 1 of the format)';
    if (len % 2 !== 0) return `the ${what} is not hex of whole bytes (${len} digits): "${clip(src.toString('latin1', from, to))}"`;
    return `the ${what} is ${len / 2} bytes, more than ${max}`;
  }
  for (let i = from; i < to; i += 2) {
    const hi = HEX_VALUE[src[i]!]!;
    const lo = HEX_VALUE[src[i + 1]!]!;
    if ((hi | lo) === 255) {
      if (src.indexOf(9, i) >= 0 && src.indexOf(9, i) < to) return 'more than two fields (per-entry fields are not part of version 1 of the format)';
      return `the ${what} is not lower-case hex: "${clip(src.toString('latin1', from, to))}"`;
    }
    out[at++] = (hi << 4) | lo;
  }
  return len / 2;
}

function clip(s: string): string {
  const t = s.length > 60 ? s.slice(0, 60) + '...' : s;
  return JSON.stringify(t).slice(1, -1);
}
