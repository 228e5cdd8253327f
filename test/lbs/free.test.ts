/**
 * free(below): deletes only segment files lying entirely below `below`, never
 * the newest; freed blocks no longer read, the rest do, and a reopen starts at
 * the first remaining segment.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { FaultFS } from '../helpers/faultfs.js';
import { type AppendRec, expectAppends, expectCode, makePages, segFiles } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-free-');
const BS = 512;
const seg = (first: number): string => first.toString(16).padStart(16, '0') + '.seg';

/** Segments 0, 4, 8, 12 (4 blocks each, appends of 2). */
async function build(dir: string): Promise<{ s: BlockStore; recs: AppendRec[] }> {
  const rng = new Rng(1);
  const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 4 * BS });
  const recs: AppendRec[] = [];
  for (let i = 0; i < 8; i++) {
    const pages = makePages(rng, 2, BS - 32);
    recs.push({ first: await s.append(pages), pages });
  }
  expect(segFiles(dir)).toEqual([seg(0), seg(4), seg(8), seg(12)]);
  return { s, recs };
}

describe('free', () => {
  it('deletes only whole segments below the mark', async () => {
    const dir = tmp();
    const { s, recs } = await build(dir);
    expect(await s.free(0)).toBe(0);
    expect(await s.free(3)).toBe(0); // segment 0 still holds block 3
    expect(segFiles(dir)).toEqual([seg(0), seg(4), seg(8), seg(12)]);
    expect(s.firstBlock).toBe(0);
    expect(await s.free(4)).toBe(1); // [0, 4) lies entirely below 4
    expect(segFiles(dir)).toEqual([seg(4), seg(8), seg(12)]);
    expect(s.firstBlock).toBe(4);
    expect(await s.free(11)).toBe(1); // 4 goes; 8 holds 8..11
    expect(segFiles(dir)).toEqual([seg(8), seg(12)]);
    expect(s.stats()).toMatchObject({ firstBlock: 8, nextBlock: 16, segments: 2, blocksOnDisk: 8, bytesOnDisk: 8 * BS + 32 });
    for (const b of [0, 3, 4, 7]) expectCode(() => s.read(b), 'BIRCH_CORRUPT');
    expectAppends(s, recs, 8);
    await s.close();

    const t = BlockStore.open(dir, { segmentSize: 4 * BS });
    expect(t.firstBlock).toBe(8);
    expect(t.nextBlock).toBe(16);
    expectAppends(t, recs, 8);
    expectCode(() => t.read(7), 'BIRCH_CORRUPT');
    await t.close();
  });

  it('segmentStart names the file holding a block, before and after a free', async () => {
    const dir = tmp();
    const { s } = await build(dir);
    const starts = (): number[] => [0, 1, 3, 4, 5, 7, 8, 11, 12, 15, 16, 99].map((b) => s.segmentStart(b));
    expect(starts()).toEqual([0, 0, 0, 4, 4, 4, 8, 8, 12, 12, 16, 16]);
    expect(await s.free(8)).toBe(2);
    // Freed blocks map to the first file left; blocks past the end to nextBlock.
    expect(starts()).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 12, 12, 16, 16]);
    await s.close();
    const empty = BlockStore.open(tmp(), { blockSize: BS });
    expect(empty.segmentStart(0)).toBe(0);
    await empty.close();
  });

  it('never deletes the newest segment, even when everything is below the mark', async () => {
    const dir = tmp();
    const { s, recs } = await build(dir);
    expect(await s.free(1e12)).toBe(3);
    expect(segFiles(dir)).toEqual([seg(12)]);
    expect(s.firstBlock).toBe(12);
    expectAppends(s, recs, 12);
    expect(await s.free(1e12)).toBe(0);
    // Appending goes on, into a new segment once the newest is full.
    const pages = [Buffer.from('after free')];
    expect(await s.append(pages)).toBe(16);
    expect(segFiles(dir)).toEqual([seg(12), seg(16)]);
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.firstBlock).toBe(12);
    expect(t.nextBlock).toBe(17);
    expectAppends(t, [...recs, { first: 16, pages }], 12);
    await t.close();
  });

  it('concurrent frees and an append in flight keep everything above the mark', async () => {
    const dir = tmp();
    const { s, recs } = await build(dir);
    const pages = [Buffer.from('x'), Buffer.from('y')];
    const [a, f1, f2] = await Promise.all([s.append(pages), s.free(9), s.free(5)]);
    expect(a).toBe(16);
    expect(f1 + f2).toBe(2);
    expect(segFiles(dir)).toEqual([seg(8), seg(12), seg(16)]);
    expectAppends(s, [...recs, { first: 16, pages }], 8);
    await s.close();
  });

  it('makes its deletions durable with a directory fsync', async () => {
    const root = tmp();
    const dir = path.join(root, 's');
    const io = new FaultFS(root);
    const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 2 * BS, io });
    for (let i = 0; i < 4; i++) await s.append([Buffer.from([i]), Buffer.from([i])]);
    const before = { u: io.count('unlink'), d: io.count('fsyncDir') };
    expect(await s.free(6)).toBe(3);
    expect(io.count('unlink') - before.u).toBe(3);
    expect(io.count('fsyncDir') - before.d).toBe(1);
    await s.close();
    const noSync = BlockStore.open(dir, { io, sync: false, segmentSize: 2 * BS });
    await noSync.append([Buffer.alloc(1)]);
    const d = io.count('fsyncDir');
    expect(await noSync.free(100)).toBe(1);
    expect(io.count('fsyncDir')).toBe(d); // sync:false skips it
    await noSync.close();
  });

  it('a failed unlink keeps its segment (and every later one) listed and counted; the next free deletes it', async () => {
    const root = tmp();
    const dir = path.join(root, 's');
    const io = new FaultFS(root);
    const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 4 * BS, io });
    const rng = new Rng(3);
    const recs: AppendRec[] = [];
    for (let i = 0; i < 8; i++) {
      const pages = makePages(rng, 2, BS - 32);
      recs.push({ first: await s.append(pages), pages });
    }
    expect(segFiles(dir)).toEqual([seg(0), seg(4), seg(8), seg(12)]);
    const onDisk = (): number => segFiles(dir).length * 4 * BS + 32;
    // The second unlink (segment 4) fails: segment 0 goes, 4 and 8 stay.
    io.failAt({ n: 2, kind: 'unlink', code: 'EIO' });
    const err = await s.free(12).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'BIRCH_IO' });
    expect(segFiles(dir)).toEqual([seg(4), seg(8), seg(12)]);
    expect(s.stats()).toMatchObject({ firstBlock: 4, segments: 3, blocksOnDisk: 12, bytesOnDisk: onDisk() });
    expect(s.failed).toBeUndefined(); // freeing is advisory: the store is not failed
    expectAppends(s, recs, 4); // segment 4's blocks still read
    // The next free retries segment 4, then 8.
    expect(await s.free(12)).toBe(2);
    expect(segFiles(dir)).toEqual([seg(12)]);
    expect(s.stats()).toMatchObject({ firstBlock: 12, segments: 1, blocksOnDisk: 4, bytesOnDisk: onDisk() });
    expectAppends(s, recs, 12);
    await s.close();
    const t = BlockStore.open(dir, { io });
    expect(t.firstBlock).toBe(12);
    await t.close();
  });
});
