/**
 * Round trips through the block store: appends of varied sizes across segment
 * boundaries, reopen, read back, and the numbers (nextBlock, firstBlock,
 * stats) and files that go with them. Also the argument checks of append and
 * read, closed handles, sync:false, and the count of writes and syncs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore, DEFAULT_BLOCK_SIZE } from '../../src/lbs/index.js';
import { MAX_READ_FDS } from '../../src/lbs/store.js';
import { FaultFS } from '../helpers/faultfs.js';
import { type AppendRec, endOf, expectAppends, expectCode, expectRejectCode, makePages, segFiles } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-rt-');

function seg(first: number): string {
  return first.toString(16).padStart(16, '0') + '.seg';
}

/** Files on disk: name -> size in slots (files are created at their full size). */
function layout(dir: string, bs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of segFiles(dir)) {
    const size = fs.statSync(path.join(dir, n)).size;
    expect(size % bs, `${n} holds whole blocks`).toBe(0);
    out[n] = size / bs;
  }
  return out;
}

async function appendAll(s: BlockStore, recs: AppendRec[], batches: Buffer[][]): Promise<void> {
  for (const pages of batches) {
    const expected = s.nextBlock;
    const first = await s.append(pages);
    expect(first).toBe(expected);
    expect(s.nextBlock).toBe(first + pages.length);
    recs.push({ first, pages });
  }
}

describe('round trips', () => {
  it('places appends in segments by the documented rule and reads them back after reopen', async () => {
    const dir = tmp();
    const bs = 512;
    const rng = new Rng(1);
    // 8 blocks per segment. An append that does not fit starts a new file
    // named after its first block; one larger than a segment gets its own.
    const counts = [1, 3, 4, 2, 9, 1, 8, 5];
    const batches = counts.map((n) => makePages(rng, n, bs - 32));
    batches[0]![0] = Buffer.alloc(0); // a 0-byte page
    batches[2]![3] = rng.bytes(bs - 32); // a full page
    const s = BlockStore.open(dir, { blockSize: bs, segmentSize: 8 * bs });
    expect(s.pageCapacity).toBe(bs - 32);
    expect(s.nextBlock).toBe(0);
    expect(s.firstBlock).toBe(0);
    const recs: AppendRec[] = [];
    await appendAll(s, recs, batches);
    // Files are created at the segment size (9 slots for the 9-block append).
    const expectedFiles = { [seg(0)]: 8, [seg(8)]: 8, [seg(10)]: 9, [seg(19)]: 8, [seg(20)]: 8, [seg(28)]: 8 };
    expect(layout(dir, bs)).toEqual(expectedFiles);
    expect(s.stats()).toEqual({
      blockSize: bs,
      firstBlock: 0,
      nextBlock: 33,
      segments: 6,
      blocksOnDisk: 33,
      bytesOnDisk: 33 * bs + 32,
      appends: 8,
      blocksAppended: 33,
    });
    expectAppends(s, recs);
    await s.close();

    const t = BlockStore.open(dir, { segmentSize: 8 * bs }); // the segment size is not recorded
    expect(t.blockSize).toBe(bs);
    expect(t.nextBlock).toBe(33);
    expect(t.firstBlock).toBe(0);
    expect(t.stats()).toMatchObject({ segments: 6, blocksOnDisk: 33, appends: 0, blocksAppended: 0 });
    expectAppends(t, recs);
    // The last segment (28, 5 blocks) has room for 3 more; 4 do not fit.
    await appendAll(t, recs, [makePages(rng, 3, bs - 32), makePages(rng, 4, bs - 32)]);
    expect(layout(dir, bs)).toEqual({ ...expectedFiles, [seg(36)]: 8 });
    expect(t.stats()).toMatchObject({ nextBlock: 40, segments: 7, appends: 2, blocksAppended: 7 });
    await t.close();

    const u = BlockStore.open(dir, { blockSize: bs });
    expect(u.nextBlock).toBe(40);
    expectAppends(u, recs);
    await u.close();
  });

  for (const seed of [11, 12, 13]) {
    it(`random appends over random segment sizes keep every page (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const dir = tmp();
      const bs = rng.pick([512, 1000, 4096]);
      const segBlocks = rng.range(1, 20);
      const segmentSize = segBlocks * bs + rng.int(bs); // rounded down to whole blocks
      const cap = bs - 32;
      const recs: AppendRec[] = [];
      let s = BlockStore.open(dir, { blockSize: bs, segmentSize });
      for (let round = 0; round < 3; round++) {
        const batches = Array.from({ length: 15 }, () => makePages(rng, rng.range(1, 2 * segBlocks + 1), cap));
        await appendAll(s, recs, batches);
        expectAppends(s, recs, 0, `seed ${seed}`);
        await s.close();
        s = BlockStore.open(dir, { segmentSize });
        expect(s.nextBlock, `seed ${seed}`).toBe(endOf(recs));
        expect(s.firstBlock).toBe(0);
        expectAppends(s, recs, 0, `seed ${seed}`);
      }
      // Every append lies inside one file; a file exceeds the segment size
      // only when it holds a single append.
      const files = layout(dir, bs);
      const firsts = Object.keys(files).map((n) => parseInt(n.slice(0, 16), 16));
      for (const r of recs) {
        const f = Math.max(...firsts.filter((x) => x <= r.first));
        expect(r.first + r.pages.length).toBeLessThanOrEqual(f + files[seg(f)]!);
      }
      for (const f of firsts) {
        const inside = recs.filter((r) => r.first >= f && r.first < f + files[seg(f)]!);
        expect(inside.length).toBeGreaterThan(0);
        if (files[seg(f)]! > segBlocks) expect(inside.length).toBe(1);
        expect(inside[0]!.first).toBe(f); // files are named after their first block
      }
      expect(s.stats()).toMatchObject({ segments: firsts.length, blocksOnDisk: endOf(recs), nextBlock: endOf(recs) });
      await s.close();
    });
  }

  it('holds full pages at the largest and a non-power-of-two block size', async () => {
    for (const bs of [65536, 1000]) {
      const dir = tmp();
      const rng = new Rng(bs);
      const s = BlockStore.open(dir, { blockSize: bs, segmentSize: 3 * bs });
      const recs: AppendRec[] = [];
      await appendAll(s, recs, [[rng.bytes(bs - 32)], [Buffer.alloc(0), rng.bytes(bs - 32)], [rng.bytes(bs - 32)]]);
      await s.close();
      const t = BlockStore.open(dir);
      expect(t.blockSize).toBe(bs);
      expect(t.pageCapacity).toBe(bs - 32);
      expectAppends(t, recs);
      await t.close();
    }
  });

  it('uses the default block size for a new store, and a segment size below one block means one block', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { segmentSize: 1 });
    expect(s.blockSize).toBe(DEFAULT_BLOCK_SIZE);
    await s.append([Buffer.from('a')]);
    await s.append([Buffer.from('b')]);
    await s.append([Buffer.from('c'), Buffer.from('d')]); // larger than a segment: a file of its own
    expect(segFiles(dir)).toEqual([seg(0), seg(1), seg(2)]);
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.blockSize).toBe(DEFAULT_BLOCK_SIZE);
    expect(t.read(3).toString()).toBe('d');
    await t.close();
  });

  it('accepts Uint8Array pages and returns copies that later appends do not change', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    const page = new Uint8Array([1, 2, 3]);
    await s.append([page]);
    page[0] = 9; // the caller's buffer is not kept
    const got = s.read(0);
    expect([...got]).toEqual([1, 2, 3]);
    await s.append([Buffer.from([7, 7, 7])]);
    expect([...got]).toEqual([1, 2, 3]);
    await s.close();
  });

  it('round-trips with sync:false and then makes no fsync at all', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    const dir = path.join(root, 's');
    const rng = new Rng(5);
    const recs: AppendRec[] = [];
    const s = BlockStore.open(dir, { blockSize: 512, segmentSize: 4 * 512, sync: false, io });
    expect(s.sync).toBe(false);
    await appendAll(s, recs, Array.from({ length: 10 }, () => makePages(rng, rng.range(1, 6), 480)));
    await s.close();
    expect(io.count('fdatasync')).toBe(0);
    expect(io.count('fsyncDir')).toBe(0);
    const t = BlockStore.open(dir, { sync: false });
    expectAppends(t, recs);
    await t.close();
    const u = BlockStore.open(dir);
    expectAppends(u, recs);
    expect(u.nextBlock).toBe(endOf(recs));
    await u.close();
  });

  it('makes one write and one fdatasync per append; starting a file adds its size, a directory fsync and a record entry', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    const s = BlockStore.open(path.join(root, 's'), { blockSize: 512, segmentSize: 4 * 512, io });
    const counts = [2, 2, 1, 3, 2];
    const startsFile = [true, false, true, false, true];
    for (let i = 0; i < counts.length; i++) {
      const before = { w: io.count('write'), f: io.count('fdatasync'), d: io.count('fsyncDir'), t: io.count('truncate') };
      await s.append(Array.from({ length: counts[i]! }, () => Buffer.alloc(10)));
      const starts = startsFile[i]!;
      // A new file: ftruncate to its full size; the append's write and
      // fdatasync; the directory fsync; the record entry's write and fdatasync.
      expect(io.count('truncate') - before.t, `append ${i}`).toBe(starts ? 1 : 0);
      expect(io.count('write') - before.w, `append ${i}`).toBe(starts ? 2 : 1);
      expect(io.count('fdatasync') - before.f, `append ${i}`).toBe(starts ? 2 : 1);
      expect(io.count('fsyncDir') - before.d, `append ${i}`).toBe(starts ? 1 : 0);
    }
    await s.close();
    expect(io.openFds).toBe(0);
  });
});

describe('argument checks and closed handles', () => {
  it('rejects bad appends without failing the store', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    await expectRejectCode(s.append([]), 'BIRCH_INTERNAL');
    await expectRejectCode(s.append([Buffer.alloc(481)]), 'BIRCH_INTERNAL');
    await expectRejectCode(s.append([Buffer.alloc(1), Buffer.alloc(10_000)]), 'BIRCH_INTERNAL');
    expect(s.nextBlock).toBe(0);
    const a = s.append([Buffer.from('x')]);
    await expectRejectCode(s.append([Buffer.from('y')]), 'BIRCH_INTERNAL'); // one append at a time
    expect(await a).toBe(0);
    expect(s.failed).toBeUndefined();
    expect(await s.append([Buffer.alloc(480)])).toBe(1);
    await s.close();
    expect(segFiles(dir).length).toBe(1);
    const t = BlockStore.open(dir);
    expect(t.nextBlock).toBe(2);
    await t.close();
  });

  it('refuses reads outside [firstBlock, nextBlock)', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    for (const b of [0, -1, 0.5, NaN]) expectCode(() => s.read(b), 'BIRCH_CORRUPT');
    await s.append([Buffer.from('a'), Buffer.from('b')]);
    expect(s.read(1).toString()).toBe('b');
    for (const b of [2, 3, -1, 1.5, Infinity]) expectCode(() => s.read(b), 'BIRCH_CORRUPT');
    await s.close();
  });

  it('a closed handle refuses everything with BIRCH_CLOSED, and close is idempotent', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    await s.append([Buffer.from('a')]);
    expect(s.closed).toBe(false);
    await s.close();
    expect(s.closed).toBe(true);
    await s.close();
    expectCode(() => s.read(0), 'BIRCH_CLOSED');
    await expectRejectCode(s.append([Buffer.from('b')]), 'BIRCH_CLOSED');
    expect(await s.free(100)).toBe(0);
  });

  it('close waits for an append in flight', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    const a = s.append([Buffer.from('a')]);
    const c = s.close();
    expect(await a).toBe(0);
    await c;
    const t = BlockStore.open(dir);
    expect(t.read(0).toString()).toBe('a');
    await t.close();
  });
});

describe('read descriptors', () => {
  it('keeps at most MAX_READ_FDS older segments open, and still reads every block', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    // One block per segment: every append starts a new segment file.
    const s = BlockStore.open(path.join(root, 's'), { blockSize: 512, segmentSize: 512, io });
    const segments = MAX_READ_FDS * 2 + 5;
    for (let i = 0; i < segments; i++) await s.append([Buffer.from(`block ${i}`)]);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < segments; i++) expect(s.read(i).toString()).toBe(`block ${i}`);
    }
    // Older segments' descriptors are capped; the newest one and the segment record are open as well.
    expect(io.openFds).toBeLessThanOrEqual(MAX_READ_FDS + 2);
    expect(io.openFds).toBeGreaterThan(1);
    await s.close();
    expect(io.openFds).toBe(0);
  });
});
