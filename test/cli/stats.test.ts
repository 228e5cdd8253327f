/**
 * `birch stats <path>`: a readable table and --json of the store's figures;
 * exit 2 (and nothing created) where there is no store.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { register } from '../../src/cli/stats.js';
import { keyOf } from '../../src/cli/workload.js';
import { runBuilt, runIn } from '../helpers/cli.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';

const made: string[] = [];
afterEach(() => made.splice(0).forEach(rmDir));
const stats = (...args: string[]) => runIn([register], ['stats', ...args]);

async function store(): Promise<{ dir: string; pagesLive: number; pagesOnDisk: number; height: number }> {
  const root = tmpDir('birch-cli-stats-');
  made.push(root);
  const dir = path.join(root, 'store');
  const db = open(dir, { blockSize: 2048, segmentSize: 8 * 2048, cleaning: 0, sync: false });
  for (let g = 0; g < 6; g++) {
    await db.batch(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: keyOf(g * 50 + i), value: `v${g}.${i}` })));
  }
  await db.delete(keyOf(0));
  const s = db.stats();
  await db.close();
  return { dir, pagesLive: s.pagesLive, pagesOnDisk: s.pagesOnDisk, height: s.height };
}

describe('birch stats', () => {
  it('prints a table of the figures', async () => {
    const st = await store();
    const r = await stats(st.dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^keys\s+299$/m);
    expect(r.out).toMatch(new RegExp(`^tree height\\s+${st.height}$`, 'm'));
    expect(r.out).toMatch(/^block size\s+2048 B$/m);
    expect(r.out).toMatch(new RegExp(`^live pages\\s+${st.pagesLive} \\(`, 'm'));
    expect(r.out).toMatch(new RegExp(`^pages on disk\\s+${st.pagesOnDisk} \\(`, 'm'));
    expect(r.out).toMatch(/^garbage\s+\d+\.\d% of the pages on disk$/m);
    const segs = fs.readdirSync(st.dir).filter((n) => n.endsWith('.seg')).length;
    expect(r.out).toMatch(new RegExp(`^segment files\\s+${segs} \\(`, 'm'));
  });

  it('--json has every figure and the segment files', async () => {
    const st = await store();
    const r = await stats(st.dir, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown> & { segments: { file: string; bytes: number }[] };
    expect(j).toMatchObject({ keys: 299, blockSize: 2048, pagesLive: st.pagesLive, pagesOnDisk: st.pagesOnDisk, height: st.height });
    expect(j.segments.length).toBe(j.segmentFiles);
    expect(j.segments.reduce((a, s) => a + s.bytes, 0)).toBe(j.segmentBytes);
    expect(j.garbageRatio).toBeGreaterThan(0);
  });

  it('no store there: exit 2, nothing created', async () => {
    const root = tmpDir('birch-cli-stats-');
    made.push(root);
    const r = await stats(path.join(root, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/does not exist/);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('the built command', async () => {
    const st = await store();
    const r = runBuilt(['stats', st.dir, '--json']);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { keys: number }).keys).toBe(299);
    expect(runBuilt(['stats', '--help']).out).toMatch(/clears it/);
  });
});
