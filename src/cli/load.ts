/**
 * `birch load <store>`: read a dump (the format `birch dump` writes) from
 * stdin into a new or existing store, in large batches, each one durable.
 * Progress on stderr. A malformed line stops the load with a message naming
 * it; every pair before it is loaded (durably) and counted.
 *
 * Exit status: 0 done; 1 malformed input (or a damaged store); 2 anything
 * else (locked, bad option, I/O error).
 *
 * src/bin/birch.ts adds the command by calling register().
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { load } from '../api/dump.js';
import { BirchError, BirchLoadError } from '../errors.js';
import { int } from './args.js';
import { cliIO, type CliIO } from './io.js';
import { openForCommand } from './opening.js';
import { ProgressLine, fmt } from './progress.js';

export const LOAD_LOCKED_HINT =
  'A running application holds this store: call load(db, stream) in it instead.';

export interface LoadCliOptions {
  batch?: number;
  blockSize?: number;
  quiet?: boolean;
}

export async function runLoad(dir: string, input: AsyncIterable<Buffer | string>, io: CliIO, o: LoadCliOptions = {}): Promise<number> {
  const opened = openForCommand(
    path.resolve(dir),
    { cleaning: 0, ...(o.blockSize !== undefined && { blockSize: o.blockSize }) },
    true,
    LOAD_LOCKED_HINT,
  );
  if (!opened.ok) {
    io.err.write(`birch load: ${opened.message}\n`);
    return opened.code;
  }
  const progress = new ProgressLine(io.err as { write(s: string): unknown; isTTY?: boolean }, 'birch load', 1, o.quiet !== true);
  try {
    const r = await load(opened.db, input, {
      ...(o.batch !== undefined && { batchSize: o.batch }),
      onProgress: (p) => progress.update(() => `${fmt(p.pairs)} pairs loaded (line ${fmt(p.lines)})`),
    });
    progress.done(`${fmt(r.pairs)} pairs loaded`);
    const rate = r.seconds > 0 ? `, ${fmt(r.pairs / r.seconds)} pairs/s` : '';
    io.out.write(`${path.resolve(dir)}: loaded ${fmt(r.pairs)} pairs in ${r.batches} batch${r.batches === 1 ? '' : 'es'}, ${r.seconds.toFixed(2)} s${rate}\n`);
    return 0;
  } catch (err) {
    progress.done();
    if (err instanceof BirchLoadError) {
      io.err.write(`birch load: ${err.message}\n`);
      io.err.write(`birch load: ${fmt(err.loaded)} pairs before line ${err.line} are loaded (durably); nothing after it\n`);
      return 1;
    }
    io.err.write(`birch load: ${err instanceof BirchError ? `${err.code}: ${err.message}` : String(err)}\n`);
    return err instanceof BirchError && err.code === 'BIRCH_CORRUPT' ? 1 : 2;
  } finally {
    await opened.db.close();
  }
}

export function register(program: Command, partial: Partial<CliIO> & { stdin?: AsyncIterable<Buffer | string> } = {}): Command {
  const io = cliIO(partial);
  return program
    .command('load')
    .description('read a birch dump from stdin into the store at <store> (created if missing or empty), in large durable batches')
    .argument('<store>', 'the store directory (not open in another process)')
    .option('--batch <n>', 'pairs per batch (one atomic, durable commit each)', int(1), 10_000)
    .option('--block-size <bytes>', 'block size, if the store is new', int(2048))
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      '\nPairs are put (an existing key is overwritten); nothing is deleted.\n\nExit status: 0 done; 1 malformed input (the message names the line; every pair\nbefore it is loaded) or a damaged store; 2 could not load.\n',
    )
    .action(async (dir: string, opts: LoadCliOptions) => {
      const input = partial.stdin ?? (process.stdin as AsyncIterable<Buffer>);
      io.exit(await runLoad(dir, input, io, opts));
    });
}
