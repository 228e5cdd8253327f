/**
 * `birch torture` as a user runs it (the built CLI): a few cycles, the
 * summary with cycles, writes verified and losses, exit 0; --seconds stops
 * it; bad options exit non-zero. (The SIGKILL suite proper, with more
 * cycles, is test/crash/sigkill.test.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { readState } from '../../src/cli/model.js';
import { runBuilt } from '../helpers/cli.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';

const made: string[] = [];
afterEach(() => made.splice(0).forEach(rmDir));

describe('birch torture', () => {
  it('runs the cycles asked for and prints the figures; --dir keeps the store, which checks out', () => {
    const root = tmpDir('birch-cli-torture-');
    made.push(root);
    const dir = path.join(root, 'store');
    const r = runBuilt(['torture', '--cycles', '4', '--seed', '9', '--dir', dir, '--kill-ms', '5,60', '-v']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^birch torture: 4 cycles in [\d.]+ s/);
    expect(r.out).toMatch(/acknowledged writes verified:\s+\d+/);
    expect(r.out).toMatch(/losses:\s+0$/m);
    expect(r.out).toMatch(/failures:\s+0$/m);
    expect(r.err.trim().split('\n')).toHaveLength(4); // one line per cycle
    const c = runBuilt(['check', dir]);
    expect(c.code, c.out + c.err).toBe(0);
  });

  it('--seconds stops it; without --dir the temporary store is removed', () => {
    const t0 = Date.now();
    const r = runBuilt(['torture', '--seconds', '1', '--kill-ms', '5,50']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const m = /\(store (.*)\)/.exec(r.out)!;
    expect(fs.existsSync(m[1]!)).toBe(false);
  });

  it('the child, run alone for a number of requests, acknowledges each and leaves them in the store', async () => {
    const root = tmpDir('birch-cli-torture-');
    made.push(root);
    const dir = path.join(root, 'store');
    const r = runBuilt(['torture-child', dir, '--seed', '3', '--requests', '300', '--in-flight', '32', '--reclaim-every', '100']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('ready');
    expect(lines.at(-1)).toBe('done');
    expect(lines.filter((l) => l.startsWith('a ')).map((l) => Number(l.slice(2))).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const db = open(dir, { cleaning: 0 });
    expect(db.check().ok).toBe(true);
    expect(readState(db).size).toBeGreaterThan(50);
    await db.close();
  });

  it('bad options exit non-zero', () => {
    expect(runBuilt(['torture', '--cycles', '0']).code).not.toBe(0);
    expect(runBuilt(['torture', '--kill-ms', '9,1']).code).not.toBe(0);
  });
});
