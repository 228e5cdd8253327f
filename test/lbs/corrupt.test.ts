/**
 * Damage to data that was once complete: in an old segment it is found when
 * the block is read (BIRCH_CORRUPT naming file and offset; open does not scan
 * old segments); in a non-final append of the last segment it stops open
 * (BIRCH_CORRUPT), and the file is left as it was, never truncated.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { FaultFS } from '../helpers/faultfs.js';
import { type AppendRec, expectAppends, expectCode, flipBit, makePages, segFiles } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-corrupt-');
const BS = 512;

async function build(dir: string, counts: number[], segBlocks: number, seed: number): Promise<AppendRec[]> {
  const rng = new Rng(seed);
  const s = BlockStore.open(dir, { blockSize: BS, segmentSize: segBlocks * BS });
  const recs: AppendRec[] = [];
  for (const n of counts) {
    const pages = makePages(rng, n, BS - 32).map((p) => (p.length < 16 ? Buffer.alloc(16, 7) : p)); // room to flip
    recs.push({ first: await s.append(pages), pages });
  }
  await s.close();
  return recs;
}

const segPath = (dir: string, first: number): string => path.join(dir, first.toString(16).padStart(16, '0') + '.seg');

/** Every block except `bad` reads back. */
function expectOthers(s: BlockStore, recs: AppendRec[], bad: number[]): void {
  for (const r of recs) {
    r.pages.forEach((p, i) => {
      if (!bad.includes(r.first + i)) expect(s.read(r.first + i).equals(p)).toBe(true);
    });
  }
}

describe('damage in old segments', () => {
  // 4 blocks per segment, appends of 2: segments 0, 4, 8 (the last).
  const counts = [2, 2, 2, 2, 2, 2];

  for (const [what, byteInSlot] of [
    ['payload', 40],
    ['CRC', 1],
    ['block number', 5],
    ['append first', 13],
    ['append count', 21],
    ['length', 25],
    ['reserved', 29],
  ] as const) {
    it(`a bit flip in the ${what} of an old block fails that read only`, async () => {
      const dir = tmp();
      const recs = await build(dir, counts, 4, 1);
      flipBit(segPath(dir, 0), 1 * BS + byteInSlot, 3);
      flipBit(segPath(dir, 4), 2 * BS + byteInSlot, 6);
      const s = BlockStore.open(dir, { blockSize: BS });
      expect(s.nextBlock).toBe(12);
      const e1 = expectCode(() => s.read(1), 'BIRCH_CORRUPT');
      expect(e1.file).toBe(segPath(dir, 0));
      expect(e1.offset).toBe(BS);
      const e6 = expectCode(() => s.read(6), 'BIRCH_CORRUPT');
      expect(e6.file).toBe(segPath(dir, 4));
      expect(e6.offset).toBe(2 * BS);
      expectOthers(s, recs, [1, 6]);
      expectCode(() => s.read(1), 'BIRCH_CORRUPT'); // still, on a second try
      await s.append([Buffer.from('more')]);
      expect(s.read(12).toString()).toBe('more');
      await s.close();
    });
  }

  it('open reads only the last segment', async () => {
    const root = tmp();
    const dir = path.join(root, 's');
    fs.mkdirSync(dir);
    await build(dir, counts, 4, 2);
    const io = new FaultFS(root);
    const s = BlockStore.open(dir, { io });
    expect(s.nextBlock).toBe(12);
    // meta (1 read) + the last segment (4 slots, each read once by the walk,
    // and the tail check past the last append reads nothing): nowhere near 12.
    expect(io.count('read')).toBeLessThanOrEqual(1 + 2 * 4);
    await s.close();
  });

  it('a block in the wrong slot is refused', async () => {
    const dir = tmp();
    const recs = await build(dir, counts, 4, 3);
    const file = segPath(dir, 0);
    const buf = fs.readFileSync(file);
    buf.copy(buf, 3 * BS, 2 * BS, 3 * BS); // slot 3 now holds a valid copy of block 2
    fs.writeFileSync(file, buf);
    const s = BlockStore.open(dir, { blockSize: BS });
    const e = expectCode(() => s.read(3), 'BIRCH_CORRUPT');
    expect(e.file).toBe(file);
    expect(e.offset).toBe(3 * BS);
    expectOthers(s, recs, [3]);
    await s.close();
  });

  it('an old segment cut short fails the reads past its end', async () => {
    const dir = tmp();
    const recs = await build(dir, counts, 4, 4);
    const file = segPath(dir, 4);
    fs.truncateSync(file, BS + 100);
    const s = BlockStore.open(dir, { blockSize: BS });
    expect(s.nextBlock).toBe(12);
    for (const b of [5, 6, 7]) {
      const e = expectCode(() => s.read(b), 'BIRCH_CORRUPT');
      expect(e.file).toBe(file);
      expect(e.offset).toBe((b - 4) * BS);
    }
    expectOthers(s, recs, [5, 6, 7]);
    await s.close();
  });

  it('an old segment that vanished fails its reads with an error that is a BirchError', async () => {
    const dir = tmp();
    await build(dir, counts, 4, 5);
    const s = BlockStore.open(dir, { blockSize: BS });
    fs.unlinkSync(segPath(dir, 4));
    const err = expectCode(() => s.read(5), 'BIRCH_IO');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(s.read(9).length).toBeGreaterThan(0);
    await s.close();
  });
});

describe('damage in the last segment', () => {
  // 8 blocks per segment: segment 0 holds a(3) b(3); c(3) starts segment 6,
  // which then holds c(3) d(2) e(1) f(2) = 8 blocks.
  const counts = [3, 3, 3, 2, 1, 2];

  for (const [victim, label] of [
    [6, 'first block of c'],
    [7, 'middle block of c'],
    [8, 'last block of c'],
    [10, 'last block of d'],
    [11, 'e, the append before the last'],
  ] as const) {
    it(`a flip in ${label} (followed by later valid appends) fails open with BIRCH_CORRUPT and changes nothing`, async () => {
      const dir = tmp();
      const recs = await build(dir, counts, 8, 6);
      expect(segFiles(dir)).toEqual([path.basename(segPath(dir, 0)), path.basename(segPath(dir, 6))]);
      const file = segPath(dir, 6);
      flipBit(file, (victim - 6) * BS + 40, 1);
      const before = fs.readFileSync(file);
      const start = recs.find((r) => victim >= r.first && victim < r.first + r.pages.length)!.first;
      for (let i = 0; i < 2; i++) {
        const err = expectCode(() => BlockStore.open(dir, { blockSize: BS }), 'BIRCH_CORRUPT');
        expect(err.file).toBe(file);
        expect(err.offset).toBe((start - 6) * BS);
        expect(fs.readFileSync(file).equals(before)).toBe(true);
      }
      // The failed open released its lock: after a repair the store opens.
      flipBit(file, (victim - 6) * BS + 40, 1);
      const s = BlockStore.open(dir);
      expect(s.nextBlock).toBe(14);
      expectAppends(s, recs);
      await s.close();
    });
  }

  it('a flip in the final append cannot be told from a torn write: that append is cut', async () => {
    const dir = tmp();
    const recs = await build(dir, counts, 8, 7);
    flipBit(segPath(dir, 6), (13 - 6) * BS + 40, 1);
    const s = BlockStore.open(dir, { blockSize: BS });
    expect(s.nextBlock).toBe(12);
    expect(fs.statSync(segPath(dir, 6)).size).toBe(8 * BS); // zeroed, not cut: the file keeps its size
    expect(fs.readFileSync(segPath(dir, 6)).subarray(6 * BS).every((b) => b === 0)).toBe(true);
    expectAppends(s, recs.slice(0, 5));
    await s.close();
  });

  it('a failed open leaks no file descriptor', async () => {
    const root = tmp();
    const dir = path.join(root, 's');
    fs.mkdirSync(dir);
    await build(dir, counts, 8, 8);
    flipBit(segPath(dir, 6), 40, 1);
    const io = new FaultFS(root);
    expectCode(() => BlockStore.open(dir, { io }), 'BIRCH_CORRUPT');
    expect(io.openFds).toBe(0);
  });
});
