/**
 * Recovery of a torn final append: whatever is left of the last append of the
 * last segment (written up to any byte, a block garbled, a block missing) is
 * zeroed at open (segment files keep the full size they were created with),
 * the earlier appends stay, and nextBlock is where the torn append began.
 * A last segment shorter than it was created is not a torn write but a lost
 * end: BIRCH_CORRUPT, and nothing is changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { setContent } from '../helpers/faultfs.js';
import { type AppendRec, endOf, expectAppends, expectCode, makePages, segFiles } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-torn-');
const BS = 512;

/** A store whose appends are `counts`; returns what they were. */
async function build(dir: string, counts: number[], segmentSize: number, seed: number): Promise<AppendRec[]> {
  const rng = new Rng(seed);
  const s = BlockStore.open(dir, { blockSize: BS, segmentSize });
  const recs: AppendRec[] = [];
  for (const n of counts) {
    const pages = makePages(rng, n, BS - 32);
    recs.push({ first: await s.append(pages), pages });
  }
  await s.close();
  return recs;
}

/** Open, check that it holds exactly `kept`, that the segment file is `size` bytes, and zero past `kept`. */
async function expectRecovered(
  dir: string,
  file: string,
  kept: AppendRec[],
  size: number,
  what: string,
  sync = true,
): Promise<void> {
  const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 64 * BS, sync });
  try {
    expect(s.nextBlock, what).toBe(endOf(kept));
    expect(fs.statSync(file).size, what).toBe(size);
    expectAppends(s, kept, 0, what);
    const first = parseInt(path.basename(file).slice(0, 16), 16);
    const rest = fs.readFileSync(file).subarray((endOf(kept) - first) * BS);
    expect(rest.every((b) => b === 0), `${what}: the torn append is zeroed`).toBe(true);
  } finally {
    await s.close();
  }
}

describe('torn final append', () => {
  it('written up to every byte offset of the last write: only the earlier appends remain', async () => {
    const dir = tmp();
    const recs = await build(dir, [2, 1, 3, 4], 64 * BS, 1);
    const [file] = segFiles(dir).map((n) => path.join(dir, n));
    const full = fs.readFileSync(file!);
    const torn = recs[3]!;
    const start = torn.first * BS;
    const end = start + torn.pages.length * BS;
    expect(full.length, 'the file has its full size').toBe(64 * BS);
    const earlier = recs.slice(0, 3);
    // The fsync after the repair costs about 3 ms on this disk, so most offsets
    // recover with sync:false (which skips only that fsync).
    for (let cut = start; cut <= end; cut++) {
      const buf = Buffer.from(full);
      buf.fill(0, cut, end); // the rest of the write never reached the disk
      setContent(file!, buf);
      const sync = cut % 61 === 0;
      // Zeros over the zero padding of the last page change nothing: the append is whole.
      if (buf.equals(full)) await expectRecovered(dir, file!, recs, full.length, `whole (${cut})`, sync);
      else await expectRecovered(dir, file!, earlier, full.length, `written up to ${cut}`, sync);
    }
  });

  it('a last segment cut short is BIRCH_CORRUPT (its end is gone), and is left as it was', async () => {
    const dir = tmp();
    const recs = await build(dir, [2, 1, 3, 4], 64 * BS, 1);
    const [file] = segFiles(dir).map((n) => path.join(dir, n));
    const full = fs.readFileSync(file!);
    const end = endOf(recs) * BS;
    for (const cut of [0, 1, BS, 6 * BS, 6 * BS + 1, end - 1, end, end + 1, 64 * BS - 1]) {
      setContent(file!, full.subarray(0, cut));
      const err = expectCode(() => BlockStore.open(dir, { blockSize: BS }), 'BIRCH_CORRUPT');
      expect(err.file).toBe(file);
      expect(err.message).toMatch(/its end is gone/);
      expect(fs.statSync(file!).size).toBe(cut);
    }
    setContent(file!, full);
    await expectRecovered(dir, file!, recs, full.length, 'restored');
  });

  it('the store goes on appending where the torn append began, with no stale block of it left behind', async () => {
    const dir = tmp();
    const recs = await build(dir, [2, 1, 3, 4], 64 * BS, 2);
    const [file] = segFiles(dir).map((n) => path.join(dir, n));
    const full = fs.readFileSync(file!);
    const start = recs[3]!.first * BS;
    const end = start + 4 * BS;
    for (const cut of [start + 1, start + BS, start + 3 * BS + 10, start + 3 * BS + 31]) {
      const buf = Buffer.from(full);
      buf.fill(0, cut, end);
      setContent(file!, buf);
      const s = BlockStore.open(dir, { blockSize: BS });
      // Two blocks over the four of the torn append: blocks 8 and 9 of it
      // must not be found (valid, of "another" append) by the next open.
      const pages = [Buffer.from(`after ${cut}`), Buffer.alloc(0)];
      expect(await s.append(pages)).toBe(6);
      await s.close();
      const t = BlockStore.open(dir);
      expect(t.nextBlock).toBe(8);
      expectAppends(t, [...recs.slice(0, 3), { first: 6, pages }], 0, `written up to ${cut}`);
      await t.close();
    }
  });

  it('a torn append that had started a new segment leaves that file empty, and it is reused', async () => {
    const dir = tmp();
    // 4 blocks per segment: [0: 3 blocks] then a 2-block append in a new file 3.
    const recs = await build(dir, [3, 2], 4 * BS, 3);
    const files = segFiles(dir).map((n) => path.join(dir, n));
    expect(files.length).toBe(2);
    const file = files[1]!;
    const full = fs.readFileSync(file);
    expect(full.length).toBe(4 * BS);
    for (let cut = 0; cut < 2 * BS; cut++) {
      const buf = Buffer.from(full);
      buf.fill(0, cut, 2 * BS);
      if (buf.equals(full)) continue; // only zero padding was zeroed
      setContent(file, buf);
      await expectRecovered(dir, file, recs.slice(0, 1), 4 * BS, `written up to ${cut}`, cut % 61 === 0);
    }
    const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 4 * BS });
    expect(s.stats()).toMatchObject({ nextBlock: 3, segments: 2 });
    const pages = [Buffer.from('x')];
    expect(await s.append(pages)).toBe(3);
    expect(segFiles(dir).length).toBe(2); // the empty file got the append
    await s.close();
    const t = BlockStore.open(dir);
    expectAppends(t, [recs[0]!, { first: 3, pages }]);
    expect(t.nextBlock).toBe(4);
    await t.close();
  });

  it('an empty last segment too small for an append grows, and the record says so', async () => {
    const dir = tmp();
    const recs = await build(dir, [3, 2], 4 * BS, 4);
    const file = path.join(dir, segFiles(dir)[1]!);
    setContent(file, Buffer.alloc(4 * BS)); // its only append torn away entirely
    const s = BlockStore.open(dir, { blockSize: BS, segmentSize: 4 * BS });
    const pages = Array.from({ length: 6 }, (_, i) => Buffer.from(`big ${i}`));
    expect(await s.append(pages)).toBe(3);
    expect(segFiles(dir).length).toBe(2);
    expect(fs.statSync(file).size).toBe(6 * BS);
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.nextBlock).toBe(9);
    expectAppends(t, [recs[0]!, { first: 3, pages }]);
    await t.close();
    // Cut back to the size it first had: that is a lost end, not a torn write.
    fs.truncateSync(file, 4 * BS);
    expectCode(() => BlockStore.open(dir), 'BIRCH_CORRUPT');
  });

  it('a garbled middle block (written out of order) makes the whole last append torn', async () => {
    const rng = new Rng(4);
    for (const victim of [0, 1, 2, 3]) {
      for (const kind of ['garbage', 'zeros', 'flip'] as const) {
        const dir = tmp();
        const recs = await build(dir, [2, 1, 3, 4], 64 * BS, 4);
        const [file] = segFiles(dir).map((n) => path.join(dir, n));
        const at = (recs[3]!.first + victim) * BS;
        const buf = fs.readFileSync(file!);
        // Within the header and payload: the padding after a page is not checked (nor read).
        const used = 32 + recs[3]!.pages[victim]!.length;
        const from = at + rng.int(used);
        const to = from + 1 + rng.int(at + used - from);
        if (kind === 'garbage') rng.bytes(to - from).copy(buf, from);
        else if (kind === 'zeros') buf.fill(0, from, to);
        else buf[from] = buf[from]! ^ 0x10;
        // Zeros over zeros (or garbage equal to the data) change nothing: make sure something did.
        if (buf.subarray(from, to).equals(fs.readFileSync(file!).subarray(from, to))) buf[from] = buf[from]! ^ 0x01;
        setContent(file!, buf);
        await expectRecovered(dir, file!, recs.slice(0, 3), 64 * BS, `block ${victim} ${kind}`);
      }
    }
  });

  it('a last append whose first block is intact but a later one missing (a hole) is cut', async () => {
    for (const missing of [1, 2, 3]) {
      const dir = tmp();
      const recs = await build(dir, [2, 1, 3, 4], 64 * BS, 5);
      const [file] = segFiles(dir).map((n) => path.join(dir, n));
      const buf = fs.readFileSync(file!);
      buf.fill(0, (6 + missing) * BS, (7 + missing) * BS); // a block that never reached the disk
      setContent(file!, buf);
      await expectRecovered(dir, file!, recs.slice(0, 3), 64 * BS, `block ${missing} missing`);
    }
  });

  it('bytes past the size the file was created with are cut', async () => {
    const dir = tmp();
    const recs = await build(dir, [2, 3], 64 * BS, 6);
    const [file] = segFiles(dir).map((n) => path.join(dir, n));
    for (const junk of [Buffer.alloc(1), Buffer.alloc(BS - 1, 0xff), Buffer.alloc(3 * BS)]) {
      fs.appendFileSync(file!, junk);
      await expectRecovered(dir, file!, recs, 64 * BS, `${junk.length} bytes of junk`);
    }
  });
});
