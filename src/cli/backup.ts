/**
 * `birch backup <store> <dest>`: Store.backup() from the command line, for a
 * store that is not open elsewhere. The live pages of the store's last
 * commit are copied into a new store at <dest> (missing or empty); progress
 * goes to stderr, a summary to stdout.
 *
 * Exit status: 0 done; 1 the store is damaged (BIRCH_CORRUPT); 2 anything
 * else (no store, locked, bad destination, I/O error).
 *
 * src/bin/birch.ts adds the command by calling register().
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import type { BackupResult } from '../api/types.js';
import { BirchError } from '../errors.js';
import { OPENING_NOTE } from './check.js';
import { cliIO, type CliIO } from './io.js';
import { openForCommand } from './opening.js';
import { ProgressLine, fmt, fmtBytes } from './progress.js';

export const LOCKED_HINT =
  'A running application holds this store: call db.backup(dest) in it instead (a hot backup while it runs).';

export async function runBackup(
  dir: string,
  dest: string,
  io: CliIO,
  opts: { quiet?: boolean } = {},
): Promise<{ code: number; result?: BackupResult }> {
  const o = openForCommand(path.resolve(dir), { cleaning: 0 }, false, LOCKED_HINT);
  if (!o.ok) {
    io.err.write(`birch backup: ${o.message}\n`);
    return { code: o.code };
  }
  const progress = new ProgressLine(io.err as { write(s: string): unknown; isTTY?: boolean }, 'birch backup', 1, opts.quiet !== true);
  try {
    const r = await o.db.backup(dest, {
      onProgress: (p) => progress.update(() => `${fmt(p.pages)}/${fmt(p.total)} pages (${p.total === 0 ? 100 : Math.floor((100 * p.pages) / p.total)}%), ${fmtBytes(p.bytes)}`),
    });
    progress.done(`${fmt(r.pages)}/${fmt(r.pages)} pages (100%), ${fmtBytes(r.bytes)}`);
    io.out.write(
      `${r.dir}: backup of commit ${r.seq}: ${fmt(r.keys)} keys, ${fmt(r.pages)} pages (${fmtBytes(r.bytes)}) in ${r.seconds.toFixed(2)} s\n`,
    );
    return { code: 0, result: r };
  } catch (err) {
    progress.done();
    const e = err instanceof BirchError ? `${err.code}: ${err.message}` : String(err);
    io.err.write(`birch backup: ${e}\n`);
    return { code: err instanceof BirchError && err.code === 'BIRCH_CORRUPT' ? 1 : 2 };
  } finally {
    await o.db.close();
  }
}

export function register(program: Command, partial: Partial<CliIO> = {}): Command {
  const io = cliIO(partial);
  return program
    .command('backup')
    .description('copy the live data of the store at <store> (its last commit) into a new store at <dest>')
    .argument('<store>', 'the store directory (not open in another process)')
    .argument('<dest>', 'the backup: a missing or empty directory')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `\nThe backup holds the live pages of one commit only, so it is about the size of\nthe live data; it opens like any store. For a store a running application\nholds, call db.backup(dest) in that application instead.\n\nExit status: 0 done, 1 the store is damaged, 2 could not back up.\n\n${OPENING_NOTE}\n`,
    )
    .action(async (dir: string, dest: string, opts: { quiet?: boolean }) => {
      const r = await runBackup(dir, dest, io, opts);
      io.exit(r.code);
    });
}
