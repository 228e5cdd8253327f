/**
 * Real processes, real kills. The child is the BUILT `birch torture-child`
 * (dist/, made by `npm run build`): it writes puts, deletes and batches with
 * up to hundreds in flight, calls reclaim() now and then, and reports each
 * acknowledgement on a pipe the moment its promise resolves. runTorture()
 * (src/cli/torture.ts, the engine of `birch torture`) kills it with SIGKILL
 * at random moments (some during its open), reopens the store, and requires:
 * it opens, check() passes, the state is exactly a prefix of the child's
 * requests that holds every acknowledged one, get() agrees with range(), and
 * a second open shows the same. CI runs CYCLES cycles; `birch torture` runs
 * as many as wanted.
 *
 * Also here: the store's lock across processes (BIRCH_LOCKED for a second
 * process, no stale lock after a SIGKILL).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BirchError, open } from '../../src/index.js';
import { defaultTortureOptions, formatTorture, runTorture } from '../../src/cli/torture.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';
import { exited, spawnScript } from '../helpers/child.js';

const BIRCH_JS = fileURLToPath(new URL('../../dist/bin/birch.js', import.meta.url));
const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const CYCLES = process.env.BIRCH_SOAK === '1' ? 300 : 24;

const roots: string[] = [];
afterAll(() => roots.forEach(rmDir));

function root(): string {
  const r = tmpDir('birch-sigkill-');
  roots.push(r);
  return r;
}

describe('SIGKILL torture', () => {
  it('the built CLI is there for the child processes', () => {
    expect(fs.existsSync(BIRCH_JS), `${BIRCH_JS} missing: run npm run build`).toBe(true);
  });

  it(`${CYCLES} cycles of write, SIGKILL at a random moment, reopen and verify`, async () => {
    const dir = path.join(root(), 'store');
    const opts = {
      ...defaultTortureOptions(),
      dir,
      cycles: CYCLES,
      birchJs: BIRCH_JS,
      killMs: [5, 150] as [number, number],
      reclaimEvery: 250,
      segmentSize: 64 * 1024,
      shape: { keys: 1500, batchShare: 0.25, deleteShare: 0.2, maxBatch: 24 },
    };
    // A loaded machine acknowledges little before each kill: go on (on the
    // same store, with the next seed) until the run has verified enough
    // acknowledged requests not to be vacuous, within a few rounds.
    const totals = { cycles: 0, ackedRequests: 0, ackedBatches: 0, unackedCommitted: 0 };
    for (let round = 0; round < 5 && (round === 0 || totals.ackedRequests <= CYCLES * 10 || totals.unackedCommitted === 0); round++) {
      const r = await runTorture({ ...opts, seed: 20240 + round });
      console.log(formatTorture(r, dir));
      expect(r.failures).toEqual([]);
      expect(r.losses).toBe(0);
      expect(r.phantoms).toBe(0);
      expect(r.cycles).toBe(CYCLES);
      totals.cycles += r.cycles;
      totals.ackedRequests += r.ackedRequests;
      totals.ackedBatches += r.ackedBatches;
      totals.unackedCommitted += r.unackedCommitted;
    }
    expect(totals.ackedRequests).toBeGreaterThan(CYCLES * 10);
    expect(totals.ackedBatches).toBeGreaterThan(0);
    // Some kills land while requests are in flight that then turn out committed.
    expect(totals.unackedCommitted).toBeGreaterThan(0);
  }, 300_000);
});

// argv: <dist index.js> <store dir> <mode: try | hold>
const CHILD = `
const [, , dist, dir, mode] = process.argv;
const { open } = await import(dist);
let db;
try {
  db = open(dir, { cleaning: 0 });
} catch (err) {
  process.stdout.write((err.code ?? 'error ' + err) + '\\n');
  process.exit(0);
}
if (mode === 'try') {
  await db.close();
  process.stdout.write('opened\\n');
  process.exit(0);
}
await db.put('holder', String(process.pid));
process.stdout.write('holding\\n');
setInterval(() => {}, 1000);
`;

function child(dir: string, mode: 'try' | 'hold'): { proc: ChildProcess; line: Promise<string> } {
  const script = path.join(root(), 'child.mjs');
  fs.writeFileSync(script, CHILD);
  const { proc, line } = spawnScript(script, [pathToFileURL(DIST_INDEX).href, dir, mode]);
  return { proc, line };
}

describe('the lock across processes', () => {
  it('a second process gets BIRCH_LOCKED while this one holds the store, and opens it after close()', async () => {
    const dir = path.join(root(), 'store');
    const db = open(dir, { cleaning: 0 });
    await db.put('k', 'v');
    const a = child(dir, 'try');
    expect(await a.line).toBe('BIRCH_LOCKED');
    await exited(a.proc);
    await db.close();
    const b = child(dir, 'try');
    expect(await b.line).toBe('opened');
    await exited(b.proc);
  });

  it('this process gets BIRCH_LOCKED while a child holds it; a SIGKILLed holder leaves no stale lock', async () => {
    const dir = path.join(root(), 'store');
    const c = child(dir, 'hold');
    try {
      expect(await c.line).toBe('holding');
      let code: string | undefined;
      try {
        open(dir);
      } catch (err) {
        code = (err as BirchError).code;
      }
      expect(code).toBe('BIRCH_LOCKED');
    } finally {
      c.proc.kill('SIGKILL');
      await exited(c.proc);
    }
    expect(c.proc.signalCode).toBe('SIGKILL');
    const db = open(dir, { cleaning: 0 });
    expect(db.get('holder')?.toString()).toBe(String(c.proc.pid));
    expect(db.check().ok).toBe(true);
    await db.close();
  });
});
