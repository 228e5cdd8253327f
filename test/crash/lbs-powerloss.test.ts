/**
 * Power loss at every file operation of a block store workload, simulated
 * with FaultFS: the workload (creating the store, appends of varied sizes
 * across segment boundaries, a free) is first run once to count its
 * operations; then, for each operation k, it is rerun with every call from
 * the k-th on failing (the machine is going down), the power is cut
 * (FaultFS.crash with several seeds), and the store is reopened with the real
 * node:fs. It must open; every append that resolved must read back exactly;
 * anything past them must be the one append that was in flight, whole; and a
 * second reopen must show the same.
 *
 * The second suite kills the process (not the machine) at operation k,
 * reopens on the same, still unsynced, file system, goes on, and only then
 * cuts the power: what the reopened store showed and acknowledged must stay.
 * It runs twice: once as a plain kill (the kernel keeps the page cache), and
 * once as an I/O error that fails every call from op k on, the process
 * giving up and a new one opening the store once the disk answers again.
 * Then a failed fdatasync has dropped the unsynced writes from the durable
 * path (FaultFS models Linux), and the store could not even cut the failed
 * append away: a reopen that finds it whole in the page cache must not
 * serve it, or append after it, unless it has made it durable itself.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { FaultFS } from '../helpers/faultfs.js';
import { type AppendRec, endOf, makePages } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';

const BS = 512;
const SEG = 12 * BS;
const SEEDS = [1, 2, 3];
const MORE_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

interface Run {
  store?: BlockStore;
  acked: AppendRec[];
  /** The append issued and not (yet) resolved, if any. */
  issued?: AppendRec;
  /** The highest mark passed to free(): blocks below it may be gone. */
  freed: number;
  freedFiles?: number;
  error?: unknown;
}

/** The workload; stops at the first error (a crash test makes every call fail from op k on). */
async function workload(io: FaultFS, dir: string, run: Run, appends = 14): Promise<void> {
  const rng = new Rng(7); // the same pages every run
  try {
    const s = BlockStore.open(dir, { blockSize: BS, segmentSize: SEG, io });
    run.store = s;
    for (let i = 0; i < appends; i++) {
      if (i === 9) {
        run.freed = s.nextBlock - 12;
        run.freedFiles = await s.free(run.freed);
      }
      const pages = makePages(rng, rng.range(1, 7), BS - 32);
      run.issued = { first: s.nextBlock, pages };
      const first = await s.append(pages);
      run.acked.push({ first, pages }); // check() verifies the numbers
      run.issued = undefined;
    }
  } catch (err) {
    run.error = err;
  }
}

interface View {
  firstBlock: number;
  nextBlock: number;
  blocks: Map<number, string>;
}

/** Open with the real fs and read every block at or above `from`. */
async function look(dir: string, from: number): Promise<View> {
  const s = BlockStore.open(dir);
  try {
    const blocks = new Map<number, string>();
    for (let b = Math.max(from, s.firstBlock); b < s.nextBlock; b++) blocks.set(b, s.read(b).toString('hex'));
    return { firstBlock: s.firstBlock, nextBlock: s.nextBlock, blocks };
  } finally {
    await s.close();
  }
}

/** The invariants after a power loss, given what the workload saw. Returns what the store holds. */
async function check(dir: string, run: Run, what: string): Promise<View> {
  let v: View;
  try {
    v = await look(dir, run.freed);
  } catch (err) {
    throw new Error(`${what}: reopen failed: ${String(err)}`, { cause: err });
  }
  run.acked.forEach((r, i) => expect(r.first, `${what}: append ${i} numbered`).toBe(endOf(run.acked.slice(0, i))));
  const ackEnd = endOf(run.acked);
  expect(v.nextBlock, `${what}: nextBlock`).toBeGreaterThanOrEqual(ackEnd);
  const expected = [...run.acked];
  if (v.nextBlock > ackEnd) {
    // Extra blocks must be the whole of the append in flight, never a part.
    expect(run.issued, `${what}: blocks past the last acknowledged append`).toBeDefined();
    expect(run.issued!.first, what).toBe(ackEnd);
    expect(v.nextBlock, `${what}: extra blocks are a whole append`).toBe(ackEnd + run.issued!.pages.length);
    expected.push(run.issued!);
  }
  for (const r of expected) {
    r.pages.forEach((p, i) => {
      const b = r.first + i;
      if (b >= run.freed) expect(v.blocks.get(b), `${what}: block ${b}`).toBe(p.toString('hex'));
    });
  }
  const again = await look(dir, run.freed);
  expect(again, `${what}: a second reopen`).toEqual(v);
  return v;
}

/** A clean run of the workload, to count (and name) its operations. */
async function probeRun(appends: number): Promise<{ probe: FaultFS; clean: Run }> {
  const root = tmpDir('birch-crash-');
  try {
    const probe = new FaultFS(root);
    const clean: Run = { acked: [], freed: 0 };
    await workload(probe, path.join(root, 'store'), clean, appends);
    expect(clean.error).toBeUndefined();
    await clean.store!.close();
    return { probe, clean };
  } finally {
    rmDir(root);
  }
}

describe('lbs power loss', () => {
  it('at every operation of the workload, with several crash seeds', async () => {
    // Count the operations of a clean run.
    const { probe, clean } = await probeRun(14);
    const total = probe.ops;
    expect(total).toBeGreaterThan(40);
    expect(clean.store!.stats().segments + clean.freedFiles!).toBeGreaterThanOrEqual(5); // segment files made
    expect(clean.freedFiles).toBeGreaterThan(0);

    let extraSeen = 0;
    for (let k = 1; k <= total + 1; k++) {
      // A crash at a sync leaves a write pending, the case with the most
      // outcomes: give those more seeds.
      const syncing = probe.trace[k - 1] === 'fdatasync' || probe.trace[k - 1] === 'fsyncDir';
      for (const seed of syncing ? MORE_SEEDS : SEEDS) {
        const root = tmpDir('birch-crash-');
        try {
          const io = new FaultFS(root);
          const dir = path.join(root, 'store');
          const run: Run = { acked: [], freed: 0 };
          io.failAt({ n: k, code: 'EIO', sticky: true }); // from op k on, nothing reaches the disk
          await workload(io, dir, run);
          if (k <= total) expect(run.error, `op ${k} stops the workload`).toBeDefined();
          await run.store?.close();
          io.crash(new Rng(seed));
          const v = await check(dir, run, `crash at op ${k}/${total} (${probe.trace[k - 1] ?? 'end'}), seed ${seed}`);
          if (v.nextBlock > endOf(run.acked)) extraSeen++;
        } finally {
          rmDir(root);
        }
      }
    }
    // The in-flight append sometimes survives whole (else the check above tests little).
    expect(extraSeen).toBeGreaterThan(0);
  });

  for (const cause of ['a process kill', 'an I/O error that lasts'] as const) {
    it(`${cause} at every operation, a reopen on the same unsynced disk, then a power loss`, async () => {
      const { probe, clean } = await probeRun(11); // includes the free()
      expect(clean.freedFiles).toBeGreaterThan(0);
      const total = probe.ops;

      for (let k = 1; k <= total; k++) {
        for (const seed of SEEDS) {
          const root = tmpDir('birch-crash-');
          try {
            const io = new FaultFS(root);
            const dir = path.join(root, 'store');
            const run: Run = { acked: [], freed: 0 };
            io.failAt({ n: k, code: 'EIO', sticky: true, kill: cause === 'a process kill' });
            await workload(io, dir, run, 11);
            await run.store?.close(); // the process dies; the OS keeps its page cache
            io.clearFaults();
            const what = `${cause} at op ${k}/${total} (${probe.trace[k - 1]}), seed ${seed}`;
            // The restarted process opens the store on the same file system;
            // whatever it serves is, from now on, the state.
            const s = BlockStore.open(dir, { blockSize: BS, segmentSize: SEG, io });
            const shown: AppendRec = { first: Math.max(s.firstBlock, run.freed), pages: [] };
            for (let b = shown.first; b < s.nextBlock; b++) shown.pages.push(Buffer.from(s.read(b)));
            expect(s.nextBlock, `${what}: the reopen shows every acknowledged append`).toBeGreaterThanOrEqual(endOf(run.acked));
            for (const r of run.acked) {
              r.pages.forEach((p, i) => {
                const b = r.first + i;
                if (b >= shown.first) expect(shown.pages[b - shown.first]!.equals(p), `${what}: block ${b}`).toBe(true);
              });
            }
            const after: AppendRec[] = [];
            if (seed !== 1) {
              // and it goes on appending (seed 1: it only reads)
              const rng = new Rng(100 + k);
              for (let i = 0; i < 3; i++) {
                const pages = makePages(rng, rng.range(1, 5), BS - 32);
                after.push({ first: await s.append(pages), pages });
              }
            }
            await s.close();
            io.crash(new Rng(seed));
            const v = await look(dir, run.freed);
            for (const r of [shown, ...after]) {
              r.pages.forEach((p, i) => {
                expect(v.blocks.get(r.first + i), `${what}: block ${r.first + i} after the power loss`).toBe(p.toString('hex'));
              });
            }
            expect(v.nextBlock, `${what}: nothing past what was shown and acknowledged`).toBe(
              Math.max(shown.first + shown.pages.length, endOf(after)),
            );
          } finally {
            rmDir(root);
          }
        }
      }
    });
  }
});
