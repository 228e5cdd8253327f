/**
 * dump() and load(): a store's pairs out to a stream and back, in the dump
 * format (dumpformat.ts), or out as Redis `SET` commands. The command line's
 * `birch dump` and `birch load` are these two functions.
 *
 * dump() reads one snapshot, so what it writes is exactly one commit however
 * long it takes and whatever is written meanwhile; it waits for a slow
 * stream (backpressure) and yields the event loop between chunks, so the
 * store's other users go on. load() puts the pairs in large batches (each
 * one atomic and durable), a few in flight; on a malformed line it waits for
 * the batches before it and throws BirchLoadError naming the line.
 */
import { BirchError, BirchLoadError } from '../errors.js';
import {
  DUMP_HEADER,
  MAX_PAIR_LINE,
  MAX_RESP_SET,
  checkHeader,
  endLine,
  parseLine,
  writePairLine,
  writeRespSet,
  type PairSpan,
} from './dumpformat.js';
import { KS_STORE } from '../btree/index.js';
import { rangeIn } from './input.js';
import { treeOf, type Store } from './store.js';
import type { BatchOp, RangeOptions } from './types.js';

/** Where dump() writes: a Node writable stream (a file, a socket, process.stdout). */
export interface DumpSink {
  write(chunk: string | Buffer, cb?: (err?: Error | null) => void): boolean;
  once(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
  removeListener(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
}

export interface DumpOptions extends RangeOptions {
  /** 'birch': the dump format (a header, a line per pair, an end line);
   * 'resp': Redis `SET` commands for `redis-cli --pipe`. Defaults to 'birch'. */
  format?: 'birch' | 'resp';
  /** Called after every chunk written (about 256 KiB). Defaults to none. */
  onProgress?: (p: { pairs: number; bytes: number }) => void;
}

export interface DumpResult {
  pairs: number;
  /** Bytes written. */
  bytes: number;
  seconds: number;
}

export interface LoadOptions {
  /** Pairs per batch (each one atomic commit). Defaults to 10,000. */
  batchSize?: number;
  /** Called after every batch committed. Defaults to none. */
  onProgress?: (p: { pairs: number; lines: number }) => void;
}

export interface LoadResult {
  /** Pairs put. */
  pairs: number;
  /** Lines read, header and end line included. */
  lines: number;
  batches: number;
  seconds: number;
}

/** Bytes handed to the stream at a time (and between two yields of the event loop). */
const CHUNK = 256 * 1024;

/**
 * Write the pairs of `db` (all of them, or those `options` select, as for
 * range()) to `out`, from one snapshot. Resolves once the last chunk was
 * handed to the stream (the caller ends or closes it).
 */
export async function dump(db: Store, out: DumpSink, options: DumpOptions = {}): Promise<DumpResult> {
  const { format = 'birch', onProgress, ...range } = options;
  if (format !== 'birch' && format !== 'resp') {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `dump format must be 'birch' or 'resp', got ${String(format)}`);
  }
  const t0 = performance.now();
  const r = rangeIn(range, { keyspace: KS_STORE, prefix: new Uint8Array(0) });
  db.stats(); // BIRCH_CLOSED if the store is closed
  // One commit, pinned as a snapshot's is; its pairs are encoded straight
  // from the pages (no copy of each key and value).
  const tree = treeOf(db);
  const commit = tree.committed;
  tree.pin(commit);
  let failed: unknown;
  const onError = (err: unknown): void => {
    failed ??= err;
  };
  out.once('error', onError);
  let pairs = 0;
  let bytes = 0;
  const send = async (chunk: string | Buffer): Promise<void> => {
    if (failed !== undefined) throw failed;
    bytes += typeof chunk === 'string' ? chunk.length : chunk.length;
    if (!out.write(chunk)) await drained(out);
    if (failed !== undefined) throw failed;
    onProgress?.({ pairs, bytes });
    // Give the store's writers (and the stream) a turn between chunks.
    await new Promise((r) => setImmediate(r));
  };
  try {
    const resp = format === 'resp';
    const most = resp ? MAX_RESP_SET : MAX_PAIR_LINE;
    let buf = Buffer.allocUnsafe(CHUNK + most);
    let at = resp ? 0 : buf.write(DUMP_HEADER, 0, 'latin1');
    // Keys come as sort keys: their first byte is the keyspace (btree/entry.ts).
    const encode = resp
      ? (k: Buffer, v: Buffer): undefined => void (at = writeRespSet(buf, at, k.subarray(1), v))
      : (k: Buffer, v: Buffer): undefined => void (at = writePairLine(buf, at, k.subarray(1), v));
    const it = tree.range(commit, r.lo, r.hi, r.reverse, r.limit, encode, () => undefined);
    for (;;) {
      if (it.next().done === true) break;
      pairs++;
      if (at >= CHUNK) {
        await send(buf.subarray(0, at));
        buf = Buffer.allocUnsafe(CHUNK + most); // the stream may still hold the last one
        at = 0;
      }
    }
    if (!resp) at += buf.write(endLine(pairs), at, 'latin1');
    if (at > 0 || pairs === 0) await send(buf.subarray(0, at));
    // The last chunk is handed over once its callback runs.
    await new Promise<void>((resolve, reject) => out.write('', (err) => (err ? reject(err) : resolve())));
    return { pairs, bytes, seconds: (performance.now() - t0) / 1000 };
  } finally {
    out.removeListener('error', onError);
    tree.unpin(commit);
    void tree.releaseSpace();
  }
}

function drained(out: DumpSink): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      out.removeListener('drain', done);
      out.removeListener('error', fail);
      out.removeListener('close', closed);
      resolve();
    };
    const fail = (err: unknown): void => {
      out.removeListener('drain', done);
      out.removeListener('close', closed);
      reject(err);
    };
    const closed = (): void => {
      out.removeListener('drain', done);
      out.removeListener('error', fail);
      reject(new BirchError('BIRCH_IO', 'the dump stream was closed'));
    };
    out.once('drain', done);
    out.once('error', fail);
    out.once('close', closed);
  });
}

/**
 * Read a dump (the 'birch' format) from `input` and put every pair into
 * `db`. Resolves once every pair is committed. Malformed input throws
 * BirchLoadError naming the line, after the pairs before it are committed.
 */
export async function load(db: Store, input: AsyncIterable<Buffer | string>, options: LoadOptions = {}): Promise<LoadResult> {
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `load option batchSize must be an integer >= 1, got ${String(batchSize)}`);
  }
  const t0 = performance.now();
  let lineNo = 0;
  let pairs = 0;
  let committed = 0;
  let batches = 0;
  let ended: number | undefined;
  let ops: BatchOp[] = [];
  const inflight: Promise<void>[] = [];
  let writeError: unknown;

  const flush = async (): Promise<void> => {
    if (ops.length === 0) return;
    const n = ops.length;
    const p = db.batch(ops).then(
      () => {
        committed += n;
        batches++;
        options.onProgress?.({ pairs: committed, lines: lineNo });
      },
      (err: unknown) => {
        writeError ??= err;
      },
    );
    ops = [];
    inflight.push(p);
    // Two batches in flight: one committing, the next filling the group commit's queue.
    while (inflight.length > 2) await inflight.shift();
    if (writeError !== undefined) throw writeError;
  };
  const settle = async (): Promise<void> => {
    await Promise.all(inflight.splice(0));
    if (writeError !== undefined) throw writeError;
  };
  const bad = async (why: string): Promise<never> => {
    await flush().catch(() => undefined);
    await settle();
    throw new BirchLoadError(lineNo, why, committed);
  };

  // A batch's keys and values are decoded into arenas of their own (the
  // batch copies them when it is issued, so they need not outlive it).
  const ARENA = 1 << 20;
  let arena = Buffer.allocUnsafe(ARENA);
  let arenaAt = 0;
  const span: PairSpan = { keyAt: 0, keyLen: 0, valueAt: 0, valueLen: 0 };

  /** Handle the line `buf[from, to)`; returns why it is malformed, if it is. */
  const line = (buf: Buffer, from: number, to: number): string | undefined => {
    lineNo++;
    if (lineNo === 1) return checkHeader(buf.toString('latin1', from, to));
    if (ended !== undefined) return 'a line after the end line';
    if (arenaAt + 2 * 255 > ARENA) {
      arena = Buffer.allocUnsafe(ARENA);
      arenaAt = 0;
    }
    const p = parseLine(buf, from, to, arena, arenaAt, span);
    if (p.kind === 'bad') return p.why;
    if (p.kind === 'end') {
      if (p.pairs !== pairs) return `the end line counts ${p.pairs} pairs, the dump holds ${pairs}`;
      ended = lineNo;
      return undefined;
    }
    ops.push({
      type: 'put',
      key: arena.subarray(span.keyAt, span.keyAt + span.keyLen),
      value: arena.subarray(span.valueAt, span.valueAt + span.valueLen),
    });
    arenaAt = span.valueAt + span.valueLen;
    pairs++;
    return undefined;
  };

  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    const buf = carry.length === 0 ? data : Buffer.concat([carry, data]);
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl >= 0; nl = buf.indexOf(10, from)) {
      const why = line(buf, from, nl);
      if (why !== undefined) await bad(why);
      if (ops.length >= batchSize) await flush();
      from = nl + 1;
    }
    carry = Buffer.from(buf.subarray(from)); // a copy: the stream may reuse its chunk
  }
  if (carry.length > 0) {
    // A last line without its LF.
    const why = line(carry, 0, carry.length);
    if (why !== undefined) await bad(why);
  }
  if (lineNo === 0) {
    lineNo = 1;
    await bad('the input is empty');
  }
  if (ended === undefined) {
    lineNo++;
    await bad('the input ended before the end line (birch-dump-end): a dump cut short?');
  }
  await flush();
  await settle();
  return { pairs: committed, lines: lineNo, batches, seconds: (performance.now() - t0) / 1000 };
}
