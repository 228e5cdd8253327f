/**
 * The segment record `birch.segments`: the log's extent, kept outside the
 * segment files, so that losing the newest segment file (or its end) is
 * reported instead of silently serving an older commit. The bytes are in
 * docs/FORMAT.md ("Segment record"); how open() uses it is in open.ts.
 *
 * An append-only file of 32-byte entries, each with its own CRC:
 *
 * - `created N, S`: segment file N exists, durably, at a size of S slots
 *   (segment files are created at their full size, see store.ts). Written
 *   and fsynced after the first append to the file is durable and before
 *   that append is acknowledged. A later entry for the same N (an empty last
 *   segment grown for an append larger than it) supersedes the earlier one.
 * - `freed F`: every segment file whose first block is below F is no longer
 *   part of the log. Written and fsynced before free() unlinks any file, so
 *   files below F that a power loss brings back are known to be leftovers.
 *
 * Entries are written one at a time (a promise chain), so a failed write can
 * only ever leave the last entry torn. Reading stops at the first entry that
 * is not valid; if a valid entry follows it, the record was damaged
 * (BIRCH_CORRUPT), else the tail is a torn write and is dropped. The file is
 * rewritten whole (compact(): temporary file, fsync, rename, directory
 * fsync) when it holds many superseded entries, when a torn entry was
 * dropped, and before a handle adds its first entry to a record it found
 * not empty (see `rewritten`). Durable entries are never written over.
 *
 * @internal
 */
import * as path from 'node:path';
import { BirchError, corrupt, ioError } from '../errors.js';
import type { FileIO } from './fileio.js';
import {
  RECORD_CREATED,
  RECORD_ENTRY_SIZE,
  RECORD_FILE,
  RECORD_FREED,
  RECORD_TMP_FILE,
  decodeRecordEntry,
  encodeRecordEntry,
  type RecordEntry,
} from './format.js';
import { segmentName } from './segments.js';

/** What the record says: the segments that make up the log, and the freed mark. */
export interface RecordState {
  /** Every segment whose first block is below this was freed (0: none). */
  freedBelow: number;
  /** Segments created and not freed: first block -> slots, ascending by first block. */
  live: Map<number, number>;
}

/** Rewrite the record once it holds this many entries more than its live state needs. */
const COMPACT_SLACK = 64;

export class SegmentRecord {
  readonly file: string;
  private fd: number | undefined;
  private entries: number;
  private readonly state: RecordState;
  private chain: Promise<void> = Promise.resolve();
  private failure: BirchError | undefined;
  /**
   * Whether this handle has replaced the file it opened (compact()). Until
   * it has, the next entry is not appended but written with all the others
   * to a new file: the entries read at open may be ones a killed writer's
   * failed fsync left in the page cache only (Linux marks such pages clean,
   * and a later fsync does not write them), and an entry must never become
   * durable after a hole. Rewriting them in place would risk the durable
   * ones to a torn write; a new file renamed over the old risks nothing.
   */
  private rewritten = false;

  private constructor(
    private readonly io: FileIO,
    private readonly dir: string,
    private readonly sync: boolean,
    fd: number,
    entries: number,
    state: RecordState,
  ) {
    this.file = path.join(dir, RECORD_FILE);
    this.fd = fd;
    this.entries = entries;
    this.state = state;
    this.rewritten = entries === 0; // nothing read that could be lost
  }

  /** Make an empty record for a new store (the caller fsyncs the directory). */
  static create(io: FileIO, dir: string, sync: boolean): void {
    const file = path.join(dir, RECORD_FILE);
    const fd = io.openSync(file, 'w');
    try {
      if (sync) io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
  }

  /**
   * Read the record of the store in `dir`, cut a torn last entry away and
   * make what is left durable. BIRCH_CORRUPT if it is missing or damaged.
   */
  static open(io: FileIO, dir: string, sync: boolean): SegmentRecord {
    const file = path.join(dir, RECORD_FILE);
    let fd: number;
    try {
      fd = io.openSync(file, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw corrupt(`the segment record ${RECORD_FILE} is missing: the store's extent is unknown`, file, 0);
      }
      throw ioError('opening', file, err);
    }
    try {
      const { entries, state, size } = readEntries(io, fd, file);
      const record = new SegmentRecord(io, dir, sync, fd, entries, state);
      // A torn last entry (a crash while it was written): nothing it
      // described was done yet, so it is dropped.
      if (size !== entries * RECORD_ENTRY_SIZE) record.compactSync(undefined);
      // Entries a killed process wrote may still be only in the page cache.
      // That is harmless as long as nothing is done on their word: a created
      // entry lost to a power loss leaves its file to be adopted. Files are
      // deleted on the word of a freed mark only after syncDurable().
      return record;
    } catch (err) {
      io.closeSync(fd);
      throw err instanceof BirchError ? err : ioError('recovering', file, err);
    }
  }

  /** The record's view of the log (do not modify). */
  get view(): Readonly<RecordState> {
    return this.state;
  }

  /** Entries in the file. */
  get size(): number {
    return this.entries;
  }

  /** Make every entry read so far durable (before acting on a freed mark read at open). */
  syncDurable(): void {
    this.compactSync(undefined);
  }

  /** Add an entry now, durably (used while opening, before anything else runs). */
  appendSync(e: RecordEntry): void {
    this.compactSync(e);
  }

  /**
   * Add an entry, durably, after every entry added before it. A failure is
   * BIRCH_IO, and every later append fails with it: the entry may or may not
   * be on disk, and the next one must not land after a hole.
   */
  append(e: RecordEntry): Promise<void> {
    const run = this.chain.then(() => this.appendNow(e));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async appendNow(e: RecordEntry): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.fd === undefined) throw new BirchError('BIRCH_CLOSED', 'the segment record is closed');
    try {
      if (!this.rewritten || this.entries >= 2 * (this.state.live.size + 1) + COMPACT_SLACK) {
        await this.compact(e);
        return;
      }
      const buf = Buffer.alloc(RECORD_ENTRY_SIZE);
      encodeRecordEntry(buf, 0, e);
      await this.io.write(this.fd, buf, 0, buf.length, this.entries * RECORD_ENTRY_SIZE);
      if (this.sync) await this.io.fdatasync(this.fd);
      this.entries++;
      apply(this.state, e);
    } catch (err) {
      this.failure = err instanceof BirchError ? err : ioError('writing the segment record', this.file, err);
      throw this.failure;
    }
  }

  /** Replace the file with the state after `e`: one created entry per live segment, then the freed mark. */
  private async compact(e: RecordEntry): Promise<void> {
    const { next, buf } = this.compacted(e);
    const tmp = path.join(this.dir, RECORD_TMP_FILE);
    const fd = this.io.openSync(tmp, 'w');
    try {
      await this.io.write(fd, buf, 0, buf.length, 0);
      if (this.sync) await this.io.fdatasync(fd);
      this.io.renameSync(tmp, this.file);
    } catch (err) {
      this.io.closeSync(fd);
      throw err;
    }
    this.replaced(fd, next, buf);
    if (this.sync) await this.io.fsyncDir(this.dir);
  }

  /** compact(), synchronously, for open(); `e` may be undefined (the state as it is). */
  compactSync(e: RecordEntry | undefined): void {
    const { next, buf } = this.compacted(e);
    const tmp = path.join(this.dir, RECORD_TMP_FILE);
    let fd: number | undefined;
    try {
      fd = this.io.openSync(tmp, 'w');
      this.io.writeSync(fd, buf, 0, buf.length, 0);
      if (this.sync) this.io.fsyncSync(fd);
      this.io.renameSync(tmp, this.file);
    } catch (err) {
      if (fd !== undefined) this.io.closeSync(fd);
      throw ioError('writing the segment record', this.file, err);
    }
    this.replaced(fd, next, buf);
    try {
      if (this.sync) this.io.fsyncDirSync(this.dir);
    } catch (err) {
      throw ioError('writing the segment record', this.dir, err);
    }
  }

  /** The state after `e`, and its entries: the live segments first, then the mark (which must name one of them). */
  private compacted(e: RecordEntry | undefined): { next: RecordState; buf: Buffer } {
    const next: RecordState = { freedBelow: this.state.freedBelow, live: new Map(this.state.live) };
    if (e !== undefined) apply(next, e);
    const out: RecordEntry[] = [];
    for (const [first, slots] of next.live) out.push({ kind: RECORD_CREATED, first, slots });
    if (next.freedBelow > 0) out.push({ kind: RECORD_FREED, first: next.freedBelow, slots: 0 });
    const buf = Buffer.alloc(out.length * RECORD_ENTRY_SIZE);
    out.forEach((x, i) => encodeRecordEntry(buf, i * RECORD_ENTRY_SIZE, x));
    return { next, buf };
  }

  /** The new file is in place (the descriptor followed it through the rename). */
  private replaced(fd: number, next: RecordState, buf: Buffer): void {
    this.io.closeSync(this.fd!);
    this.fd = fd;
    this.rewritten = true;
    this.entries = buf.length / RECORD_ENTRY_SIZE;
    this.state.freedBelow = next.freedBelow;
    this.state.live = next.live;
  }

  /** Waits for entries being written; then closes the file. */
  async close(): Promise<void> {
    await this.chain;
    this.closeSync();
  }

  closeSync(): void {
    if (this.fd !== undefined) this.io.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Apply entry `e` to `s` (entries are checked by readEntries before this). */
function apply(s: RecordState, e: RecordEntry): void {
  if (e.kind === RECORD_CREATED) {
    s.live.set(e.first, e.slots);
  } else {
    s.freedBelow = e.first;
    for (const first of s.live.keys()) if (first < e.first) s.live.delete(first);
  }
}

/** Parse and check every entry (see the top of this file). */
function readEntries(io: FileIO, fd: number, file: string): { entries: number; state: RecordState; size: number } {
  const size = io.sizeSync(fd);
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = io.readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  const state: RecordState = { freedBelow: 0, live: new Map() };
  let newest = -1;
  let i = 0;
  for (; (i + 1) * RECORD_ENTRY_SIZE <= got; i++) {
    const at = i * RECORD_ENTRY_SIZE;
    const e = decodeRecordEntry(buf, at);
    if (e === undefined) break;
    const bad = (why: string): never => {
      throw corrupt(`entry ${i} of the segment record (${describe(e)}) ${why}`, file, at);
    };
    if (e.kind === RECORD_CREATED) {
      if (e.first < newest) bad(`lies below the segment created before it (${segmentName(newest)})`);
      if (e.first < state.freedBelow) bad(`lies below the freed mark ${state.freedBelow}`);
      newest = e.first;
    } else {
      if (e.first < state.freedBelow) bad(`lies below the earlier freed mark ${state.freedBelow}`);
      if (!state.live.has(e.first)) bad('does not name a segment the record holds');
    }
    apply(state, e);
  }
  // Only the last entry can be torn by a crash: a valid one beyond a bad one means damage.
  for (let j = i + 1; (j + 1) * RECORD_ENTRY_SIZE <= got; j++) {
    const e = decodeRecordEntry(buf, j * RECORD_ENTRY_SIZE);
    if (e !== undefined) {
      throw corrupt(`entry ${i} of the segment record is damaged, but entry ${j} after it is valid`, file, i * RECORD_ENTRY_SIZE);
    }
  }
  return { entries: i, state, size };
}

function describe(e: RecordEntry): string {
  return e.kind === RECORD_CREATED ? `created ${segmentName(e.first)}, ${e.slots} slots` : `freed below block ${e.first}`;
}
