/**
 * What the CLI commands write to and how they end, so that tests can run a
 * command in-process and capture both.
 *
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { META_FILE, segmentFirsts, segmentName } from '../lbs/index.js';

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
  return segmentFirsts(fs.readdirSync(dir)).map((first) => {
    const name = segmentName(first);
    let bytes = 0;
    try {
      bytes = fs.statSync(path.join(dir, name)).size;
    } catch {
      // deleted meanwhile
    }
    return { name, first, bytes };
  });
}
