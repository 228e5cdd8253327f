/**
 * I/O errors, injected with FaultFS: a failed write or sync rejects the
 * append with BIRCH_IO and fails the store (every later append rejects too,
 * until reopen); a reopen then holds every append that resolved and nothing
 * else. A failed read is BIRCH_IO; so is a failed free; and an open that hits
 * an I/O error throws BIRCH_IO, leaks nothing and leaves a store that opens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { FaultFS, type OpKind } from '../helpers/faultfs.js';
import {
  type AppendRec,
  birchError,
  endOf,
  expectAppends,
  expectCode,
  expectRejectCode,
  makePages,
  segFiles,
} from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-io-');
const BS = 512;
const SEG = 4 * BS;

interface Setup {
  root: string;
  dir: string;
  io: FaultFS;
  s: BlockStore;
  recs: AppendRec[];
  rng: Rng;
}

/** A store on FaultFS with `counts` appended (4 blocks per segment). */
async function setup(counts: number[], seed = 1): Promise<Setup> {
  const root = tmp();
  const dir = path.join(root, 's');
  const io = new FaultFS(root);
  const rng = new Rng(seed);
  const s = BlockStore.open(dir, { blockSize: BS, segmentSize: SEG, io });
  const recs: AppendRec[] = [];
  for (const n of counts) {
    const pages = makePages(rng, n, BS - 32);
    recs.push({ first: await s.append(pages), pages });
  }
  return { root, dir, io, s, recs, rng };
}

/** Reopen with the real node:fs and check the store holds exactly `recs`. */
async function expectExactly(dir: string, recs: AppendRec[], what: string): Promise<void> {
  const t = BlockStore.open(dir, { segmentSize: SEG });
  try {
    expect(t.nextBlock, what).toBe(endOf(recs));
    expectAppends(t, recs, 0, what);
    // and it takes appends again
    expect(await t.append([Buffer.from('again')]), what).toBe(endOf(recs));
  } finally {
    await t.close();
  }
}

describe('a failed append fails the store', () => {
  const cases: [string, OpKind, 'EIO' | 'ENOSPC', number[]][] = [
    ['fdatasync EIO', 'fdatasync', 'EIO', [2]],
    ['fdatasync EIO, new segment', 'fdatasync', 'EIO', [4]],
    ['write ENOSPC', 'write', 'ENOSPC', [1]],
    ['write EIO, new segment', 'write', 'EIO', [3]],
    ['directory fsync EIO after starting a segment', 'fsyncDir', 'EIO', [3]],
    ['open ENOSPC of a new segment file', 'open', 'ENOSPC', [3]],
  ];
  for (const [what, kind, code, [count]] of cases) {
    it(`${what}: BIRCH_IO now and for every later append; reopen holds what resolved and nothing else`, async () => {
      const { dir, io, s, recs, rng } = await setup([2, 1]); // segment 0 holds 3 of 4 blocks
      io.failAt({ n: 1, kind, code }); // once only: the store must remember
      const err = await expectRejectCode(s.append(makePages(rng, count!, BS - 32)), 'BIRCH_IO');
      expect((err.cause as NodeJS.ErrnoException).code).toBe(code);
      expect(s.failed?.code).toBe('BIRCH_IO');
      expect(s.nextBlock).toBe(3);
      const writes = io.count('write');
      for (let i = 0; i < 3; i++) {
        const later = await expectRejectCode(s.append([Buffer.from('later')]), 'BIRCH_IO');
        expect(later.cause).toBe(s.failed);
      }
      expect(io.count('write')).toBe(writes); // nothing more was even tried
      expectAppends(s, recs); // reads still work
      await s.close();
      expect(io.openFds).toBe(0);
      await expectExactly(dir, recs, what);
    });
  }

  it('a failure at every operation of an append (EIO and ENOSPC alike) leaves exactly the earlier appends', async () => {
    // Count the operations of the append under test: a 2-block append that
    // starts a new segment (open, truncate to full size, write, fdatasync,
    // fsyncDir, the record entry's write and fdatasync).
    const probe = await setup([3, 1]);
    const before = probe.io.ops;
    await probe.s.append(makePages(probe.rng, 2, BS - 32));
    const opsOfAppend = probe.io.ops - before;
    await probe.s.close();
    expect(opsOfAppend).toBe(7);
    expect(probe.io.trace.slice(before)).toEqual(['open', 'truncate', 'write', 'fdatasync', 'fsyncDir', 'write', 'fdatasync']);
    for (let k = 1; k <= opsOfAppend; k++) {
      for (const code of ['EIO', 'ENOSPC'] as const) {
        for (const sticky of [false, true]) {
          const what = `op ${k} ${code}${sticky ? ' sticky' : ''}`;
          const { dir, io, s, recs, rng } = await setup([3, 1], k);
          io.failAt({ n: k, code, sticky });
          const pages = makePages(rng, 2, BS - 32);
          await expectRejectCode(s.append(pages), 'BIRCH_IO');
          await expectRejectCode(s.append([Buffer.from('later')]), 'BIRCH_IO');
          await s.close();
          if (!sticky) {
            await expectExactly(dir, recs, what);
          } else {
            // Every later call fails too, so the store cannot take back what
            // it wrote: the failed append may be there, but only whole.
            const t = BlockStore.open(dir);
            const extra = t.nextBlock === 6 ? [{ first: 4, pages }] : [];
            expect([4, 6], what).toContain(t.nextBlock);
            expectAppends(t, [...recs, ...extra], 0, what);
            await t.close();
          }
        }
      }
    }
  });
});

describe('other I/O errors', () => {
  it('a failed read is BIRCH_IO, names the file, and does not stop later reads or appends', async () => {
    const { io, s, recs } = await setup([2, 3]);
    io.failAt({ n: 1, kind: 'read', code: 'EIO' });
    const err = expectCode(() => s.read(1), 'BIRCH_IO');
    expect(err.file).toBe(path.join(s.dir, '0000000000000000.seg'));
    expect((err.cause as NodeJS.ErrnoException).code).toBe('EIO');
    expectAppends(s, recs);
    expect(s.failed).toBeUndefined();
    expect(await s.append([Buffer.from('ok')])).toBe(5);
    await s.close();
  });

  it('a failed open of an old segment for reading is BIRCH_IO', async () => {
    const { dir, io, s, recs } = await setup([2, 3, 2]);
    await s.close();
    const t = BlockStore.open(dir, { io });
    io.failAt({ n: 1, kind: 'open', code: 'EIO' });
    expectCode(() => t.read(0), 'BIRCH_IO');
    expectAppends(t, recs);
    await t.close();
  });

  it('a failed unlink or directory fsync in free() is BIRCH_IO; appends go on', async () => {
    for (const kind of ['unlink', 'fsyncDir'] as const) {
      const { dir, io, s, recs } = await setup([3, 3, 3, 3]);
      io.failAt({ n: 1, kind, code: 'EIO' });
      await expectRejectCode(s.free(9), 'BIRCH_IO');
      expect(s.failed).toBeUndefined();
      const pages = [Buffer.from('after')];
      expect(await s.append(pages)).toBe(12);
      expectAppends(s, [...recs, { first: 12, pages }], 9);
      await s.close();
      const t = BlockStore.open(dir);
      expect(t.nextBlock).toBe(13);
      expectAppends(t, [...recs, { first: 12, pages }], 9);
      await t.close();
    }
  });
});

describe('I/O errors while opening', () => {
  /** An existing store with a torn tail, so that open reads, truncates and syncs. */
  async function tornStore(): Promise<{ root: string; dir: string; recs: AppendRec[]; full: Buffer }> {
    const { root, dir, s, recs } = await setup([2, 2, 3]); // segments 0 (2+2), 4 (3)
    await s.close();
    const file = path.join(dir, segFiles(dir).at(-1)!);
    fs.appendFileSync(file, Buffer.alloc(700, 0xab));
    return { root, dir, recs, full: fs.readFileSync(file) };
  }

  /** An existing store closed cleanly: open reads it, writes its last append again and syncs. */
  async function wholeStore(): Promise<{ root: string; dir: string; recs: AppendRec[] }> {
    const { root, dir, s, recs } = await setup([2, 2, 3]);
    await s.close();
    return { root, dir, recs };
  }

  it('an error at any operation of open is BIRCH_IO, leaks no descriptor or lock, and the store opens after', async () => {
    const seen = new Set<string>();
    // A torn tail (cut away; the append before it is durable, since the torn
    // one was written after its fsync succeeded) and a clean end (its last
    // append written again before the fsync).
    for (const make of [tornStore, wholeStore]) {
      const { root, dir, recs } = await make();
      const probe = new FaultFS(root);
      const s = BlockStore.open(dir, { io: probe });
      await s.close();
      const opsOfOpen = probe.ops;
      expect(opsOfOpen).toBeGreaterThanOrEqual(7);
      for (let k = 1; k <= opsOfOpen; k++) {
        // Restore the store (an earlier round may have cut its tail).
        const { dir: d, root: r } = await make();
        const io = new FaultFS(r);
        const code = k % 2 === 0 ? 'EIO' : 'ENOSPC';
        io.failAt({ n: k, code });
        if (probe.trace[k - 1] === 'write') {
          // Writing the last append again (so that the fsync covers it) failed:
          // the store opens for reading, but refuses appends until reopened.
          const s2 = BlockStore.open(d, { io });
          expect(s2.failed?.code, `op ${k}`).toBe('BIRCH_IO');
          expect(((s2.failed?.cause ?? {}) as NodeJS.ErrnoException).code).toBe(code);
          expectAppends(s2, recs, 0, `op ${k}`);
          await expectRejectCode(s2.append([Buffer.from('no')]), 'BIRCH_IO');
          await s2.close();
        } else {
          const err = birchError(() => BlockStore.open(d, { io }));
          expect(err.code, `op ${k} (${io.trace[k - 1]})`).toBe('BIRCH_IO');
        }
        seen.add(io.trace[k - 1]!);
        expect(io.openFds, `op ${k}`).toBe(0);
        await expectExactly(d, recs, `op ${k}`);
      }
      await expectExactly(dir, recs, 'untouched copy');
    }
    for (const kind of ['stat', 'readdir', 'open', 'read', 'size', 'truncate', 'write', 'fdatasync'] as const) {
      expect(seen.has(kind), kind).toBe(true);
    }
  });

  it('an error at any operation of creating a store is BIRCH_IO, and a later open creates it', async () => {
    const probeRoot = tmp();
    const probe = new FaultFS(probeRoot);
    await BlockStore.open(path.join(probeRoot, 's'), { io: probe, blockSize: 1024 }).close();
    for (let k = 1; k <= probe.ops; k++) {
      const root = tmp();
      const dir = path.join(root, 's');
      const io = new FaultFS(root);
      io.failAt({ n: k, code: 'EIO', sticky: true });
      expectCode(() => BlockStore.open(dir, { io, blockSize: 1024 }), 'BIRCH_IO');
      expect(io.openFds).toBe(0);
      // Either the meta file made it (and says 1024) or the creation starts over.
      const hasMeta = fs.existsSync(path.join(dir, 'birch.meta'));
      const t = BlockStore.open(dir, hasMeta ? {} : { blockSize: 1024 });
      expect(t.blockSize, `op ${k}`).toBe(1024);
      expect(t.nextBlock).toBe(0);
      await t.close();
    }
  });
});
