/**
 * What the CLI commands write to and how they end, so that tests can run a
 * command in-process and capture both.
 *
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { META_FILE, parseSegmentName } from '../lbs/format.js';

export interface CliIO {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
  /** How a command reports its exit status; defaults to setting process.exitCode. */
  exit: (code: number) => void;
}

export function cliIO(io: Partial<CliIO> = {}): CliIO {
  return {
    out: io.out ?? process.stdout,
    err: io.err ?? process.stderr,
    exit:
      io.exit ??
      ((code) => {
        if (code !== 0) process.exitCode = code;
      }),
  };
}

/**
 * Why `dir` cannot be inspected as an existing store, or undefined if it
 * looks like one. (open() would CREATE a store in an empty or missing
 * directory; an inspecting command must never do that.)
 */
export function notAStore(dir: string): string | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch (err) {
    return `cannot stat ${dir}: ${(err as Error).message}`;
  }
  if (st === undefined) return `${dir} does not exist`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (!fs.existsSync(path.join(dir, META_FILE))) return `${dir} holds no birch store (no ${META_FILE})`;
  return undefined;
}

export interface SegmentFile {
  name: string;
  first: number;
  bytes: number;
}

/** The segment files in `dir`, oldest first, with their sizes. */
export function segmentFiles(dir: string): SegmentFile[] {
  const out: SegmentFile[] = [];
  for (const name of fs.readdirSync(dir)) {
    const first = parseSegmentName(name);
    if (first === undefined) continue;
    let bytes = 0;
    try {
      bytes = fs.statSync(path.join(dir, name)).size;
    } catch {
      // deleted meanwhile
    }
    out.push({ name, first, bytes });
  }
  return out.sort((a, b) => a.first - b.first);
}

/** The segment file and byte offset holding block `blockNo`, or undefined. */
export function locateBlock(segs: readonly SegmentFile[], blockNo: number, blockSize: number): { file: string; offset: number } | undefined {
  let hit: SegmentFile | undefined;
  for (const s of segs) if (s.first <= blockNo) hit = s;
  return hit === undefined ? undefined : { file: hit.name, offset: (blockNo - hit.first) * blockSize };
}
