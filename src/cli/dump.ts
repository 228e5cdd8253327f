/**
 * `birch dump <store>`: every pair (or a key range, or a prefix) of a store
 * that is not open elsewhere, to stdout, in the dump format (see README.md,
 * "Dump and load") or, with --format resp, as Redis SET commands for
 * `redis-cli --pipe`. Progress on stderr.
 *
 * Exit status: 0 done; 1 the store is damaged (BIRCH_CORRUPT); 2 anything
 * else (no store, locked, bad option, I/O error, the reader went away).
 *
 * src/bin/birch.ts adds the command by calling register().
 */
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { dump, type DumpSink } from '../api/dump.js';
import type { RangeOptions } from '../api/types.js';
import { BirchError } from '../errors.js';
import { int } from './args.js';
import { OPENING_NOTE } from './check.js';
import { cliIO, type CliIO } from './io.js';
import { openForCommand } from './opening.js';
import { ProgressLine, fmt, fmtBytes } from './progress.js';

export const DUMP_LOCKED_HINT =
  'A running application holds this store: call dump(db, stream) in it instead (it reads one snapshot while writes go on).';

export interface DumpCliOptions {
  format?: string;
  prefix?: string;
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  hex?: boolean;
  limit?: number;
  reverse?: boolean;
  quiet?: boolean;
}

/** The range options, bounds as UTF-8 text or (--hex) hex. */
function rangeOf(o: DumpCliOptions): RangeOptions {
  const conv = (name: string, v: string | undefined): Buffer | undefined => {
    if (v === undefined) return undefined;
    if (o.hex !== true) return Buffer.from(v, 'utf8');
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(v)) throw new InvalidArgumentError(`--${name} must be hex (with --hex), got "${v}"`);
    return Buffer.from(v, 'hex');
  };
  const r: RangeOptions = {};
  for (const k of ['prefix', 'gt', 'gte', 'lt', 'lte'] as const) {
    const b = conv(k, o[k]);
    if (b !== undefined) r[k] = b;
  }
  if (o.limit !== undefined) r.limit = o.limit;
  if (o.reverse === true) r.reverse = true;
  return r;
}

export async function runDump(dir: string, out: DumpSink, io: CliIO, o: DumpCliOptions = {}): Promise<number> {
  const format = o.format ?? 'birch';
  if (format !== 'birch' && format !== 'resp') {
    io.err.write(`birch dump: --format must be birch or resp, not ${format}\n`);
    return 2;
  }
  let range: RangeOptions;
  try {
    range = rangeOf(o);
  } catch (err) {
    io.err.write(`birch dump: ${(err as Error).message}\n`);
    return 2;
  }
  const opened = openForCommand(path.resolve(dir), { cleaning: 0 }, false, DUMP_LOCKED_HINT);
  if (!opened.ok) {
    io.err.write(`birch dump: ${opened.message}\n`);
    return opened.code;
  }
  const progress = new ProgressLine(io.err as { write(s: string): unknown; isTTY?: boolean }, 'birch dump', 1, o.quiet !== true);
  try {
    const r = await dump(opened.db, out, {
      ...range,
      format,
      onProgress: (p) => progress.update(() => `${fmt(p.pairs)} pairs, ${fmtBytes(p.bytes)}`),
    });
    progress.done(`${fmt(r.pairs)} pairs, ${fmtBytes(r.bytes)}`);
    if (o.quiet !== true) {
      io.err.write(`birch dump: ${fmt(r.pairs)} pairs (${fmtBytes(r.bytes)}) in ${r.seconds.toFixed(2)} s\n`);
    }
    return 0;
  } catch (err) {
    progress.done();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') {
      io.err.write('birch dump: the reader closed the pipe\n');
      return 2;
    }
    io.err.write(`birch dump: ${err instanceof BirchError ? `${err.code}: ${err.message}` : String(err)}\n`);
    return err instanceof BirchError && err.code === 'BIRCH_CORRUPT' ? 1 : 2;
  } finally {
    await opened.db.close();
  }
}

export function register(program: Command, partial: Partial<CliIO> & { stdout?: DumpSink } = {}): Command {
  const io = cliIO(partial);
  return program
    .command('dump')
    .description('write the pairs of the store at <store> to stdout (one snapshot), as a birch dump or Redis SET commands')
    .argument('<store>', 'the store directory (not open in another process)')
    .option('--format <format>', 'birch (the dump format, for birch load) or resp (SET commands, for redis-cli --pipe)', 'birch')
    .option('--prefix <bytes>', 'only keys that start with these bytes')
    .option('--gt <key>', 'only keys after this one')
    .option('--gte <key>', 'only keys from this one on')
    .option('--lt <key>', 'only keys before this one')
    .option('--lte <key>', 'only keys up to this one')
    .option('--hex', 'the prefix and bounds are given in hex (default: UTF-8 text)')
    .option('--limit <n>', 'at most this many pairs', int(0))
    .option('--reverse', 'descending key order')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .addHelpText(
      'after',
      `\nThe dump format: a header line "birch-dump<TAB>1", one line per pair\n"<key hex><TAB><value hex>" in key order, and an end line\n"birch-dump-end<TAB><pairs>". birch load reads it back.\n\n  birch dump <store> --format resp | redis-cli --pipe\n\nloads the pairs into a Redis-compatible server.\n\nExit status: 0 done, 1 the store is damaged, 2 could not dump.\n\n${OPENING_NOTE}\n`,
    )
    .action(async (dir: string, opts: DumpCliOptions) => {
      const out = partial.stdout ?? (process.stdout as unknown as DumpSink);
      io.exit(await runDump(dir, out, io, opts));
    });
}
