/**
 * A version-1 store (segment files that grow with each append, no segment
 * record) is upgraded in place by open(): its data is untouched, a torn
 * tail is recovered the version-1 way, the record is written from the
 * listing and the meta file says version 2; a crash at any operation of the
 * upgrade leaves a store that opens with all its data (upgraded or not yet).
 *
 * The version-1 stores are made the way version 1 wrote them: a version-2
 * store's files with the meta file rewritten to version 1, the record
 * removed, and each segment file cut to the blocks it holds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { FORMAT_VERSION, encodeMeta } from '../../src/lbs/format.js';
import { open } from '../../src/index.js';
import { readState } from '../../src/cli/model.js';
import { keyOf } from '../../src/cli/workload.js';
import { FaultFS } from '../helpers/faultfs.js';
import { type AppendRec, endOf, expectAppends, makePages, segFiles } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-upgrade-');
const BS = 512;

/** Turn the (closed) version-2 store in `dir` into the version-1 store it would have been. */
function toVersion1(dir: string): void {
  const meta = fs.readFileSync(path.join(dir, 'birch.meta'));
  fs.writeFileSync(path.join(dir, 'birch.meta'), encodeMeta(meta.readUInt32LE(12), 1));
  fs.rmSync(path.join(dir, 'birch.segments'));
  const segs = segFiles(dir);
  const bs = meta.readUInt32LE(12);
  segs.forEach((name, i) => {
    const p = path.join(dir, name);
    const first = parseInt(name.slice(0, 16), 16);
    let blocks: number;
    if (i + 1 < segs.length) {
      blocks = parseInt(segs[i + 1]!.slice(0, 16), 16) - first;
    } else {
      const buf = fs.readFileSync(p);
      blocks = buf.length / bs;
      while (blocks > 0 && buf.subarray((blocks - 1) * bs, blocks * bs).every((b) => b === 0)) blocks--;
    }
    fs.truncateSync(p, blocks * bs);
  });
}

async function build(dir: string, counts: number[], seed: number): Promise<AppendRec[]> {
  const rng = new Rng(seed);
  const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 8 * BS });
  const recs: AppendRec[] = [];
  for (const n of counts) {
    const pages = makePages(rng, n, BS - 32);
    recs.push({ first: await s.append(pages), pages });
  }
  await s.close();
  return recs;
}

const version = (dir: string): number => fs.readFileSync(path.join(dir, 'birch.meta')).readUInt32LE(8);

describe('upgrading a version-1 store', () => {
  it('keeps every block, writes the record from the listing, and goes on appending', async () => {
    const dir = tmp();
    const recs = await build(dir, [3, 3, 3, 2, 1, 5, 9, 2], 1);
    toVersion1(dir);
    const sizes = segFiles(dir).map((n) => fs.statSync(path.join(dir, n)).size / BS);
    expect(version(dir)).toBe(1);
    const s = BlockStore.open(dir, { segmentSize: 8 * BS });
    expect(version(dir)).toBe(FORMAT_VERSION);
    expect(s.nextBlock).toBe(endOf(recs));
    expectAppends(s, recs);
    // Each file is recorded at the size it has: cutting one short is now detected.
    expect(segFiles(dir).map((n) => fs.statSync(path.join(dir, n)).size / BS)).toEqual(sizes);
    expect(fs.statSync(path.join(dir, 'birch.segments')).size).toBe(32 * sizes.length);
    // The last file is full at its recorded size: the next append starts a new, full-size file.
    const pages = [Buffer.from('after the upgrade')];
    expect(await s.append(pages)).toBe(endOf(recs));
    await s.close();
    expect(fs.statSync(path.join(dir, segFiles(dir).at(-1)!)).size).toBe(8 * BS);
    const t = BlockStore.open(dir);
    expectAppends(t, [...recs, { first: endOf(recs), pages }]);
    await t.close();
    // The upgraded last file, now the one before the last, cut short: its lost block fails its read.
    const cut = path.join(dir, segFiles(dir).at(-2)!);
    fs.truncateSync(cut, fs.statSync(cut).size - BS);
    const u = BlockStore.open(dir);
    expect(() => u.read(endOf(recs) - 1)).toThrow(expect.objectContaining({ code: 'BIRCH_CORRUPT' }));
    await u.close();
    // And the newest cut short fails open.
    const newest = path.join(dir, segFiles(dir).at(-1)!);
    fs.truncateSync(newest, BS);
    expect(() => BlockStore.open(dir)).toThrow(expect.objectContaining({ code: 'BIRCH_CORRUPT' }));
  });

  it('a version-1 torn tail is truncated as version 1 did, before the record is written', async () => {
    const dir = tmp();
    const recs = await build(dir, [3, 2, 4], 2);
    toVersion1(dir);
    const last = path.join(dir, segFiles(dir).at(-1)!);
    fs.appendFileSync(last, Buffer.alloc(700, 0xab)); // a torn append: a partial slot of garbage
    const s = BlockStore.open(dir);
    expect(s.nextBlock).toBe(endOf(recs));
    expectAppends(s, recs);
    await s.close();
    expect(fs.statSync(last).size % BS).toBe(0);
  });

  it('a whole store (open() of the api) upgrades and checks out', async () => {
    const dir = tmp();
    const db = open(dir, { blockSize: 2048, segmentSize: 8 * 2048, cleaning: 0 });
    for (let i = 0; i < 300; i += 30) {
      await db.batch(Array.from({ length: 30 }, (_, j) => ({ type: 'put' as const, key: keyOf(i + j), value: `v${i + j}` })));
    }
    const want = readState(db);
    await db.close();
    toVersion1(dir);
    const again = open(dir, { cleaning: 0 });
    expect(again.check().ok).toBe(true);
    expect(readState(again)).toEqual(want);
    await again.put('new', 'write');
    await again.close();
    expect(version(dir)).toBe(FORMAT_VERSION);
  });

  it('a power loss at every operation of the upgrade leaves a store that opens with all its data', async () => {
    const template = tmp();
    const recs = await build(template, [3, 3, 3, 2, 1, 5], 3);
    toVersion1(template);
    const probeRoot = tmp();
    fs.cpSync(template, path.join(probeRoot, 's'), { recursive: true });
    const probe = new FaultFS(probeRoot);
    await BlockStore.open(path.join(probeRoot, 's'), { io: probe }).close();
    const total = probe.ops;
    expect(probe.trace).toContain('rename');
    let upgraded = 0;
    for (let k = 1; k <= total; k++) {
      for (const seed of [1, 2, 3]) {
        const root = tmp();
        const dir = path.join(root, 's');
        fs.cpSync(template, dir, { recursive: true });
        const io = new FaultFS(root);
        io.failAt({ n: k, code: 'EIO', sticky: true });
        try {
          await BlockStore.open(dir, { io }).close();
        } catch {
          // the machine is going down
        }
        io.crash(new Rng(seed));
        if (version(dir) === FORMAT_VERSION) upgraded++;
        const s = BlockStore.open(dir);
        try {
          expect(s.nextBlock, `op ${k}, seed ${seed}`).toBe(endOf(recs));
          expectAppends(s, recs, 0, `op ${k}, seed ${seed}`);
        } finally {
          await s.close();
        }
        expect(version(dir)).toBe(FORMAT_VERSION);
      }
    }
    expect(upgraded).toBeGreaterThan(0);
  });
});
