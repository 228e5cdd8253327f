/**
 * A lost log tail is reported, never served (issue 12). Before the segment
 * record, deleting the newest segment file (or cutting it short past its
 * last append) made open() serve an older commit, or an empty store, with
 * check() passing. Now:
 *
 * - every segment file the record lists that is missing, or a last file
 *   shorter than it was created, is BIRCH_CORRUPT naming the file, and
 *   `birch check` exits 1;
 * - damage to the record itself is detected, or harmless (the data read is
 *   the store's last commit), never an older store;
 * - a free() whose unlinks a power loss partly undid (an older file back, a
 *   later one still gone) does not misstate the store's extent: the files
 *   below the recorded mark are leftovers, deleted, never counted;
 * - a crash at every operation of a workload that starts segment files and
 *   frees them leaves a store whose files are exactly what the record says,
 *   every block of [firstBlock, nextBlock) readable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BirchError, open } from '../../src/index.js';
import { runCheck } from '../../src/cli/check.js';
import { readState } from '../../src/cli/model.js';
import { keyOf } from '../../src/cli/workload.js';
import { BlockStore } from '../../src/lbs/index.js';
import { FaultFS, setContent } from '../helpers/faultfs.js';
import { makePages, segFiles } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { rmDir, tmpDir } from '../helpers/storecrash.js';

const BS = 2048;
const OPTS = { blockSize: BS, segmentSize: 8 * BS, cleaning: 0, sync: false } as const;

/** A store of `n` keys in several segment files; returns its state. */
async function build(dir: string, n = 200): Promise<Map<string, string>> {
  const db = open(dir, OPTS);
  for (let i = 0; i < n; i += 20) {
    await db.batch(Array.from({ length: 20 }, (_, j) => ({ type: 'put' as const, key: keyOf(i + j), value: `value ${i + j} `.repeat(4) })));
  }
  const state = readState(db);
  await db.close();
  return state;
}

/** open() must throw BIRCH_CORRUPT naming `file`; `birch check` must exit 1 with it. */
async function expectLost(dir: string, file: string, what: string): Promise<BirchError> {
  let err: unknown;
  try {
    const db = open(dir, OPTS);
    const keys = db.check().keys;
    await db.close();
    expect.fail(`${what}: open() succeeded and served ${keys} keys`);
  } catch (e) {
    err = e;
  }
  expect(err, what).toBeInstanceOf(BirchError);
  const e = err as BirchError;
  expect(e.code, `${what}: ${e.message}`).toBe('BIRCH_CORRUPT');
  expect(e.file, what).toBe(file);
  const r = await runCheck(dir);
  expect(r.code, `${what}: birch check`).toBe(1);
  expect(r.problems[0]?.code).toBe('BIRCH_CORRUPT');
  expect(r.problems[0]?.file).toBe(file);
  return e;
}

describe('a lost tail is reported', () => {
  it('the newest segment file deleted, or cut short anywhere (past its last append too)', async () => {
    const root = tmpDir('birch-lost-');
    try {
      const dir = path.join(root, 'store');
      await build(dir);
      const segs = segFiles(dir);
      expect(segs.length).toBeGreaterThan(3);
      const newest = path.join(dir, segs[segs.length - 1]!);
      const saved = fs.readFileSync(newest);
      fs.rmSync(newest);
      const e = await expectLost(dir, newest, 'newest deleted');
      expect(e.message).toMatch(/missing/);
      // Written blocks end well before the file does: cutting only zeros is still a lost end.
      let written = saved.length;
      while (written > 0 && saved.subarray(written - BS, written).every((b) => b === 0)) written -= BS;
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(saved.length);
      for (const len of [0, 1, BS, written - 1, written, written + BS, saved.length - 1]) {
        setContent(newest, saved.subarray(0, len));
        await expectLost(dir, newest, `newest cut to ${len} of ${saved.length}`);
      }
      setContent(newest, saved);
      expect((await runCheck(dir)).code).toBe(0);
    } finally {
      rmDir(root);
    }
  });

  it('the only segment file deleted: not an empty store', async () => {
    const root = tmpDir('birch-lost-');
    try {
      const dir = path.join(root, 'store');
      const db = open(dir, OPTS);
      await db.put('k', 'v');
      await db.close();
      const [only] = segFiles(dir);
      fs.rmSync(path.join(dir, only!));
      await expectLost(dir, path.join(dir, only!), 'only segment deleted');
    } finally {
      rmDir(root);
    }
  });

  it('a segment in the middle deleted, live pages or not; the record deleted', async () => {
    const root = tmpDir('birch-lost-');
    try {
      const dir = path.join(root, 'store');
      await build(dir);
      const segs = segFiles(dir);
      for (const name of segs.slice(0, -1)) {
        const p = path.join(dir, name);
        const saved = fs.readFileSync(p);
        fs.rmSync(p);
        await expectLost(dir, p, `${name} deleted`);
        setContent(p, saved);
      }
      const rec = path.join(dir, 'birch.segments');
      const saved = fs.readFileSync(rec);
      fs.rmSync(rec);
      await expectLost(dir, rec, 'record deleted');
      setContent(rec, saved);
      expect((await runCheck(dir)).code).toBe(0);
    } finally {
      rmDir(root);
    }
  });
});

describe('damage to the segment record', () => {
  it('bits flipped (every one in the last entries), every length cut: detected, or the last commit whole; never an older store', async () => {
    const root = tmpDir('birch-lost-');
    const figures = { flips: 0, cuts: 0, detected: 0, harmless: 0 };
    try {
      const dir = path.join(root, 'store');
      const want = await build(dir, 120);
      // Some frees too, so the record holds freed marks.
      const db = open(dir, OPTS);
      await db.reclaim();
      for (let i = 0; i < 40; i++) await db.put(keyOf(i), `again ${i}`);
      want.clear();
      for (const [k, v] of readState(db)) want.set(k, v);
      await db.close();
      const rec = path.join(dir, 'birch.segments');
      const pristine = new Map(fs.readdirSync(dir).filter((n) => n !== 'birch.lock').map((n) => [n, fs.readFileSync(path.join(dir, n))]));
      const restore = (): void => {
        for (const n of fs.readdirSync(dir)) if (n !== 'birch.lock' && !pristine.has(n)) fs.rmSync(path.join(dir, n));
        for (const [n, b] of pristine) setContent(path.join(dir, n), b);
      };
      const record = pristine.get('birch.segments')!;
      expect(record.length / 32).toBeGreaterThan(4);
      const probe = async (what: string): Promise<void> => {
        try {
          const s = open(dir, OPTS);
          try {
            expect(s.check().ok, `${what}: check()`).toBe(true);
            expect(readState(s), `${what}: the data is the last commit`).toEqual(want);
          } finally {
            await s.close();
          }
          figures.harmless++;
        } catch (err) {
          if (!(err instanceof BirchError) || err.code !== 'BIRCH_CORRUPT') throw err;
          figures.detected++;
        } finally {
          restore();
        }
      };
      // Every bit of the last three entries (the ones a crash can touch, and
      // the newest files' entries); two bits of every byte before them.
      const rng = new Rng(9);
      for (let off = 0; off < record.length; off++) {
        const bits = off >= record.length - 3 * 32 ? [0, 1, 2, 3, 4, 5, 6, 7] : [rng.int(4), 4 + rng.int(4)];
        for (const bit of bits) {
          const b = Buffer.from(record);
          b[off]! ^= 1 << bit;
          setContent(rec, b);
          figures.flips++;
          await probe(`bit ${bit} of byte ${off}`);
        }
      }
      for (let len = 0; len < record.length; len++) {
        setContent(rec, record.subarray(0, len));
        figures.cuts++;
        await probe(`record cut to ${len}`);
      }
      expect(figures.detected).toBeGreaterThan(0);
      expect(figures.harmless).toBeGreaterThan(0);
    } finally {
      rmDir(root);
      console.log(
        `[lost-tail] segment record: ${figures.flips} bit flips and ${figures.cuts} cuts: ${figures.detected} detected, ` +
          `${figures.harmless} harmless (the last commit, whole); 0 older stores`,
      );
    }
  });
});

describe('free() and power loss: the extent is never misstated', () => {
  const PBS = 512;
  const PSEG = 4 * PBS;

  /** Appends across 6 segment files; free() of the first four; then more appends. */
  async function workload(s: BlockStore, rng: Rng, acked: number[]): Promise<void> {
    for (let i = 0; i < 12; i++) {
      const pages = makePages(rng, 2, PBS - 32);
      await s.append(pages);
      acked.push(s.nextBlock);
    }
    await s.free(16);
    for (let i = 0; i < 4; i++) {
      await s.append(makePages(rng, 3, PBS - 32));
      acked.push(s.nextBlock);
    }
  }

  /** Open with the real fs: every block of [firstBlock, nextBlock) reads; after close, the files are the log's. */
  async function inspect(dir: string, ackedEnd: number, what: string): Promise<{ firstBlock: number; files: string[] }> {
    const s = BlockStore.open(dir, { segmentSize: PSEG });
    let firstBlock: number;
    try {
      firstBlock = s.firstBlock;
      expect(s.nextBlock, `${what}: every acknowledged append is there`).toBeGreaterThanOrEqual(ackedEnd);
      for (let b = s.firstBlock; b < s.nextBlock; b++) s.read(b);
    } catch (err) {
      throw new Error(`${what}: ${String(err)}`, { cause: err });
    } finally {
      await s.close();
    }
    const files = segFiles(dir);
    const firsts = files.map((n) => parseInt(n.slice(0, 16), 16));
    if (firsts.length > 0) expect(firsts[0], `${what}: the first file left is where the log starts`).toBe(firstBlock);
    return { firstBlock, files };
  }

  it('a power loss before the directory fsync of a free(): older files back, later ones gone', async () => {
    let mixed = 0;
    let back = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const root = tmpDir('birch-lost-');
      try {
        const dir = path.join(root, 'store');
        const io = new FaultFS(root);
        const s = BlockStore.open(dir, { blockSize: PBS, segmentSize: PSEG, io });
        const rng = new Rng(seed);
        for (let i = 0; i < 12; i++) await s.append(makePages(rng, 2, PBS - 32));
        expect(segFiles(dir).length).toBe(6);
        io.failAt({ n: 1, kind: 'fsyncDir', code: 'EIO', sticky: true }); // the unlinks stay pending
        await s.free(20).catch(() => undefined);
        expect(segFiles(dir).length).toBe(1);
        await s.close();
        io.crash(new Rng(seed));
        const present = segFiles(dir).map((n) => parseInt(n.slice(0, 16), 16));
        if (present.length > 1) back++;
        // An older file back while a later one stays deleted: the old gap.
        if (present.some((f, i) => f < 20 && present[i + 1] !== undefined && present[i + 1]! - f > 4)) mixed++;
        const v = await inspect(dir, 24, `seed ${seed}`);
        expect(v.firstBlock, `seed ${seed}: the recorded mark, whatever came back`).toBe(20);
        expect(v.files, `seed ${seed}`).toEqual(['0000000000000014.seg']);
      } finally {
        rmDir(root);
      }
    }
    expect(back).toBeGreaterThan(5);
    expect(mixed).toBeGreaterThan(0);
  });

  it('a power loss at every operation of a workload that starts and frees segment files', async () => {
    const probeRoot = tmpDir('birch-lost-');
    let total: number;
    try {
      const io = new FaultFS(probeRoot);
      const s = BlockStore.open(path.join(probeRoot, 'store'), { blockSize: PBS, segmentSize: PSEG, io });
      await workload(s, new Rng(5), []);
      await s.close();
      total = io.ops;
    } finally {
      rmDir(probeRoot);
    }
    let trials = 0;
    for (let k = 1; k <= total + 1; k++) {
      for (const seed of [1, 2, 3]) {
        const root = tmpDir('birch-lost-');
        try {
          const io = new FaultFS(root);
          const dir = path.join(root, 'store');
          io.failAt({ n: k, code: 'EIO', sticky: true });
          const acked: number[] = [];
          try {
            const s = BlockStore.open(dir, { blockSize: PBS, segmentSize: PSEG, io });
            try {
              await workload(s, new Rng(5), acked);
            } catch {
              // the machine is going down
            } finally {
              await s.close();
            }
          } catch {
            // creating the store failed
          }
          io.crash(new Rng(seed));
          if (!fs.existsSync(path.join(dir, 'birch.meta'))) continue;
          await inspect(dir, acked[acked.length - 1] ?? 0, `power loss at op ${k}/${total}, seed ${seed}`);
          trials++;
        } finally {
          rmDir(root);
        }
      }
    }
    expect(trials).toBeGreaterThan(total);
  });
});
