/**
 * `birch check <path>`: open an existing store and verify every page
 * reachable from the committed root (CRC, decoding, key order, separator
 * bounds, levels, oldest-leaf pointers, the commit trailer's counts), and
 * with --all-blocks the CRC of every block on disk, live or dead. Problems
 * are listed with the block, its segment file and byte offset.
 *
 * Exit status: 0 the store is sound; 1 problems were found (including a
 * store that fails to open as BIRCH_CORRUPT); 2 it could not be checked
 * (no store there, locked by another process, I/O error).
 *
 * src/bin/birch.ts adds the command by calling register().
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { open, type Store } from '../api/store.js';
import type { CheckProblem } from '../api/types.js';
import { BirchError, messageWithoutPlace } from '../errors.js';
import { BlockStore } from '../lbs/index.js';
import { cliIO, notAStore, type CliIO } from './io.js';

export const OPENING_NOTE =
  'Opening a store is not read-only: it fsyncs the last segment file (first\n' +
  'writing its last append again in place, the same bytes) and, if a crash left\n' +
  'a torn (never acknowledged) append at the end of the log, clears it (zeroes it;\n' +
  'the file keeps its size); it deletes segment files a free() had already given\n' +
  'up that a power loss brought back, lists in the segment record a segment file\n' +
  'a crash left out of it, and upgrades a version-1 store, exactly as any open()\n' +
  'would. Nothing else is written; the cleaner does not run. The store must not\n' +
  'be open in another process (it is locked).';

export interface CheckOutcome {
  /** 0 sound, 1 problems, 2 could not check. */
  code: number;
  problems: CheckProblem[];
  keys?: number;
  pages?: number;
  height?: number;
  blocksScanned?: number;
  error?: string;
}

/** A problem from an error (a store that fails to open, a block that fails to read). */
function fromError(err: unknown, block?: number): CheckProblem {
  if (!(err instanceof BirchError)) return { kind: 'unreadable', message: String(err), ...(block !== undefined && { block }) };
  return {
    kind: 'unreadable',
    message: messageWithoutPlace(err),
    code: err.code,
    ...(block !== undefined && { block }),
    ...(err.file !== undefined && { file: err.file }),
    ...(err.offset !== undefined && { offset: err.offset }),
  };
}

/** One line for a problem: which block, what, where on disk. */
export function formatProblem(p: CheckProblem): string {
  const what = p.code !== undefined && p.kind === 'unreadable' ? `${p.code}: ${p.message}` : p.message;
  const where = p.file !== undefined ? ` [${path.basename(p.file)}${p.offset !== undefined ? `, offset ${p.offset}` : ''}]` : '';
  return `${p.block !== undefined ? `block ${p.block}: ` : ''}${what}${where}`;
}

export async function runCheck(dir: string, opts: { allBlocks?: boolean } = {}): Promise<CheckOutcome> {
  dir = path.resolve(dir);
  const why = notAStore(dir);
  if (why !== undefined) return { code: 2, problems: [], error: why };
  let db: Store;
  try {
    db = open(dir, { cleaning: 0 });
  } catch (err) {
    if (err instanceof BirchError && err.code === 'BIRCH_CORRUPT') return { code: 1, problems: [fromError(err)] };
    const p = fromError(err);
    return { code: 2, problems: [], error: formatProblem(p) };
  }
  let out: CheckOutcome;
  try {
    let r;
    try {
      r = db.check();
    } catch (err) {
      // check() reports what it finds; anything thrown is itself a finding.
      r = { ok: false, problems: [fromError(err)], keys: 0, pages: 0, height: 0 };
    }
    out = { code: r.ok ? 0 : 1, problems: r.problems, keys: r.keys, pages: r.pages, height: r.height };
  } finally {
    await db.close();
  }
  if (opts.allBlocks === true) {
    // Every block on disk, live or dead: the block store verifies each CRC.
    let lbs: BlockStore;
    try {
      lbs = BlockStore.open(dir);
    } catch (err) {
      out.problems.push(fromError(err));
      out.code = 1;
      return out;
    }
    try {
      let n = 0;
      for (let b = lbs.firstBlock; b < lbs.nextBlock; b++, n++) {
        try {
          lbs.read(b);
        } catch (err) {
          out.problems.push(fromError(err, b));
        }
      }
      out.blocksScanned = n;
      if (out.problems.length > 0) out.code = 1;
    } finally {
      await lbs.close();
    }
  }
  return out;
}

export function register(program: Command, partial: Partial<CliIO> = {}): Command {
  const io = cliIO(partial);
  return program
    .command('check')
    .description('verify every page reachable from the root of the store at <path> (CRC, order, bounds); exit 1 on any problem')
    .argument('<path>', 'the store directory')
    .option('--all-blocks', 'also verify the CRC of every block on disk, live or dead')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `\nExit status: 0 sound, 1 problems found (listed with block, file and offset),\n2 could not check (no store there, locked, I/O error).\n\n${OPENING_NOTE}\n`,
    )
    .action(async (dir: string, opts: { allBlocks?: boolean; json?: boolean }) => {
      const r = await runCheck(dir, opts);
      if (opts.json === true) {
        io.out.write(JSON.stringify({ path: path.resolve(dir), ok: r.code === 0, ...r }, null, 2) + '\n');
      } else if (r.error !== undefined) {
        io.err.write(`birch check: ${r.error}\n`);
      } else if (r.code === 0) {
        const scanned = r.blocksScanned !== undefined ? `, ${r.blocksScanned} blocks on disk verified` : '';
        io.out.write(`${path.resolve(dir)}: OK (${r.keys} keys, ${r.pages} pages, height ${r.height}${scanned})\n`);
      } else {
        io.out.write(`${path.resolve(dir)}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}\n`);
        for (const p of r.problems) io.out.write(`  ${formatProblem(p)}\n`);
      }
      io.exit(r.code);
    });
}
