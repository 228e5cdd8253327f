/**
 * `birch stats <path>`: open an existing store and print its figures: keys,
 * tree height, live pages, pages and bytes on disk, garbage, segment files.
 * --json prints every figure Store.stats() has, plus the segment files.
 *
 * src/bin/birch.ts adds the command by calling register().
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { open } from '../api/store.js';
import { BirchError } from '../errors.js';
import { OPENING_NOTE } from './check.js';
import { cliIO, notAStore, segmentFiles, type CliIO } from './io.js';
import { fmtBytes } from './progress.js';


export interface StatsOutcome {
  code: number;
  error?: string;
  stats?: Record<string, unknown>;
}

export async function runStats(dir: string): Promise<StatsOutcome> {
  dir = path.resolve(dir);
  const why = notAStore(dir);
  if (why !== undefined) return { code: 2, error: why };
  let db;
  try {
    db = open(dir, { cleaning: 0 });
  } catch (err) {
    const msg = err instanceof BirchError ? `${err.code}: ${err.message}` : String(err);
    return { code: err instanceof BirchError && err.code === 'BIRCH_CORRUPT' ? 1 : 2, error: msg };
  }
  try {
    const s = db.stats();
    const segs = segmentFiles(dir);
    return {
      code: 0,
      stats: {
        path: dir,
        keys: s.keys,
        height: s.height,
        blockSize: s.blockSize,
        pagesLive: s.pagesLive,
        liveBytes: s.liveBytes,
        pagesOnDisk: s.pagesOnDisk,
        bytesOnDisk: s.bytesOnDisk,
        garbageRatio: s.garbageRatio,
        segmentFiles: segs.length,
        segmentBytes: segs.reduce((a, f) => a + f.bytes, 0),
        segments: segs.map((f) => ({ file: f.name, firstBlock: f.first, bytes: f.bytes })),
      },
    };
  } finally {
    await db.close();
  }
}

export function register(program: Command, partial: Partial<CliIO> = {}): Command {
  const io = cliIO(partial);
  return program
    .command('stats')
    .description("print the statistics of the store at <path>: keys, height, pages live and on disk, garbage, segment files")
    .argument('<path>', 'the store directory')
    .option('--json', 'print the statistics as JSON')
    .addHelpText('after', `\n${OPENING_NOTE}\n`)
    .action(async (dir: string, opts: { json?: boolean }) => {
      const r = await runStats(dir);
      if (r.stats === undefined) {
        io.err.write(`birch stats: ${r.error}\n`);
        io.exit(r.code);
        return;
      }
      const s = r.stats as {
        path: string;
        keys: number;
        height: number;
        blockSize: number;
        pagesLive: number;
        liveBytes: number;
        pagesOnDisk: number;
        bytesOnDisk: number;
        garbageRatio: number;
        segmentFiles: number;
        segmentBytes: number;
      };
      if (opts.json === true) {
        io.out.write(JSON.stringify(r.stats, null, 2) + '\n');
      } else {
        const rows: [string, string][] = [
          ['store', s.path],
          ['keys', String(s.keys)],
          ['tree height', String(s.height)],
          ['block size', `${s.blockSize} B`],
          ['live pages', `${s.pagesLive} (${fmtBytes(s.liveBytes)})`],
          ['pages on disk', `${s.pagesOnDisk} (${fmtBytes(s.pagesOnDisk * s.blockSize)})`],
          ['garbage', `${(100 * s.garbageRatio).toFixed(1)}% of the pages on disk`],
          ['segment files', `${s.segmentFiles} (${fmtBytes(s.segmentBytes)})`],
          ['bytes on disk', fmtBytes(s.bytesOnDisk)],
        ];
        const w = Math.max(...rows.map(([k]) => k.length));
        for (const [k, v] of rows) io.out.write(`${k.padEnd(w)}  ${v}\n`);
      }
      io.exit(0);
    });
}
