/**
 * Temporary directories for tests, under os.tmpdir(). `tmpDir()` makes one;
 * `useTmpDirs()` (call inside a describe or at top level of a test file)
 * returns a maker whose directories are all removed after each test.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';

export function tmpDir(prefix = 'birch-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A maker of temp dirs that are removed after each test (pass or fail). */
export function useTmpDirs(prefix?: string): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmDir(d);
  });
  return () => {
    const d = tmpDir(prefix);
    made.push(d);
    return d;
  };
}
