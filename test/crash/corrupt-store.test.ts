/**
 * Corruption of a store's files: bit flips and truncations. After each one,
 * `open`, `get`, forward and reverse `range`, and `check()` must either give
 * correct data or raise BIRCH_CORRUPT (check() reports instead: ok false);
 * never wrong data, never another exception, never a hang.
 *
 * "Correct" is the store's last commit, with one exception the format cannot
 * tell apart from a torn write: damage to the LAST append of the log (a flip
 * anywhere in it) makes recovery cut that append away, exactly as after a
 * power loss during it, and the store opens at an earlier commit, whole.
 * Those cases are counted apart ("rolled back") and must show exactly an
 * earlier committed state, never a mixture. A segment file cut short or
 * deleted is always detected: files are created at their full size and
 * listed in the segment record (the tail file included).
 *
 * The store is small (2 KiB blocks, 8-block segments, 300 keys, 20 commits
 * with updates and deletes, so there are dead pages too). Every bit of the
 * meta file is flipped; in the segment files, every bit of the CRC-covered
 * bytes of the live pages with BIRCH_SOAK=1, a sample in CI (SAMPLE), plus
 * samples of dead pages and of the zero padding after the pages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirchError, open, type Store } from '../../src/index.js';
import { readState, statesEqual, type State } from '../../src/cli/model.js';
import { keyOf } from '../../src/cli/workload.js';
import { decodePage } from '../../src/btree/serialize.js';
import { BLOCK_HEADER_SIZE, META_FILE } from '../../src/lbs/format.js';
import { parseSegmentName } from '../../src/lbs/segments.js';
import { setContent } from '../helpers/faultfs.js';
import { Rng, rmDir, tmpDir, valueFor } from '../helpers/storecrash.js';

const SOAK = process.env.BIRCH_SOAK === '1';
/** Flips in the CRC-covered bytes of live pages per CI run. */
const SAMPLE = SOAK ? 30000 : 600;
const BS = 2048;
const OPTS = { blockSize: BS, segmentSize: 8 * BS, cleaning: 0, sync: false } as const;

let root: string;
let dir: string;
/** Pristine bytes of every file. */
const pristine = new Map<string, Buffer>();
/** The state after each commit; the last is the store's. */
const history: State[] = [];
let final: State;
let keys: Buffer[];
/** Segment files in order, and what each block slot is. */
interface Slot {
  file: string;
  offset: number;
  blockNo: number;
  length: number;
  live: boolean;
  /** In the last append of the log. */
  lastAppend: boolean;
}
const slots: Slot[] = [];
let tailFile: string;

const figures = { liveBits: 0, lastBits: 0, truncRolledBack: 0, lastAppendDetected: 0, flips: 0, detected: 0, harmless: 0, rolledBack: 0, truncations: 0, liveFlips: 0, liveDetected: 0 };

beforeAll(async () => {
  root = tmpDir('birch-corrupt-');
  dir = path.join(root, 'store');
  const db = open(dir, OPTS);
  const rng = new Rng(71);
  const model: State = new Map();
  const commit = async (ops: { type: 'put' | 'del'; key: Buffer; value?: Buffer }[]): Promise<void> => {
    await db.batch(ops.map((o) => (o.type === 'put' ? { type: 'put', key: o.key, value: o.value! } : { type: 'del', key: o.key })));
    for (const o of ops) {
      if (o.type === 'put') model.set(o.key.toString('hex'), o.value!.toString('hex'));
      else model.delete(o.key.toString('hex'));
    }
    expect(readState(db)).toEqual(model);
    history.push(new Map(model));
  };
  for (let g = 0; g < 10; g++) {
    await commit(Array.from({ length: 30 }, (_, i) => ({ type: 'put' as const, key: keyOf(g * 30 + i), value: valueFor(rng, `i${g}.${i}`) })));
  }
  for (let g = 0; g < 10; g++) {
    await commit(
      Array.from({ length: 12 }, (_, i) =>
        rng.bool(0.3) ? { type: 'del' as const, key: keyOf(rng.int(300)) } : { type: 'put' as const, key: keyOf(rng.int(300)), value: valueFor(rng, `u${g}.${i}`) },
      ),
    );
  }
  // A last commit of one small change to a recent leaf: it frees nothing, so
  // the commit before it stays whole on disk (see the rollback cases).
  await commit([{ type: 'put', key: keyOf(299), value: Buffer.from('the very last') }]);
  final = history[history.length - 1]!;
  keys = Array.from({ length: 310 }, (_, i) => keyOf(i));
  // Which blocks are live: walk the tree from the root.
  const live = new Set<number>();
  const stats = db.stats();
  await db.close();
  for (const name of fs.readdirSync(dir)) {
    if (name === 'birch.lock') continue;
    pristine.set(name, fs.readFileSync(path.join(dir, name)));
  }
  const segs = [...pristine.keys()].filter((n) => parseSegmentName(n) !== undefined).sort();
  tailFile = segs[segs.length - 1]!;
  const blockAt = new Map<number, { file: string; offset: number; payload: Buffer }>();
  for (const f of segs) {
    const first = parseSegmentName(f)!;
    const buf = pristine.get(f)!;
    for (let off = 0; off < buf.length; off += BS) {
      if (unwritten(buf, off)) continue; // files are created at full size: a slot not yet written is zeros
      const len = buf.readUInt32LE(off + 24);
      blockAt.set(first + off / BS, { file: f, offset: off, payload: buf.subarray(off + BLOCK_HEADER_SIZE, off + BLOCK_HEADER_SIZE + len) });
    }
  }
  const last = Math.max(...blockAt.keys());
  const walk = (b: number): void => {
    live.add(b);
    const { node } = decodePage(blockAt.get(b)!.payload, b);
    if (!node.leaf) for (const c of node.blocks) walk(c);
  };
  walk(last);
  expect(live.size).toBe(stats.pagesLive);
  const lastBuf = pristine.get(tailFile)!;
  const lastOff = (last - parseSegmentName(tailFile)!) * BS;
  const appendFirst = lastBuf.readUInt32LE(lastOff + 12) + lastBuf.readUInt32LE(lastOff + 16) * 2 ** 32;
  for (const [b, { file, offset, payload }] of blockAt) {
    slots.push({ file, offset, blockNo: b, length: payload.length, live: live.has(b), lastAppend: b >= appendFirst });
  }
  expect(segs.length).toBeGreaterThan(3);
});

afterAll(() => {
  rmDir(root);
  console.log(
    `[corrupt-store] ${figures.flips} bit flips: ${figures.detected} detected (BIRCH_CORRUPT), ${figures.rolledBack} rolled back ` +
      `(damage in the last append: recovered as a torn write), ${figures.harmless} harmless (padding or dead pages: data correct); ` +
      `${figures.liveFlips} of them drawn (with replacement) from the ${figures.liveBits} checksummed bits of live pages outside the last append, all ${figures.liveDetected} detected; ` +
      `${figures.lastBits} such bits in the last append; ` +
      `${figures.lastAppendDetected} in the last append detected at open (the commit before it lost its pages to free()); ` +
      `${figures.truncations} truncations (${figures.truncRolledBack} of the tail file opened at an earlier commit, whole); 0 wrong data`,
  );
});

/** Whether the slot at `off` of a segment file was never written (all zeros). */
function unwritten(buf: Buffer, off: number): boolean {
  return buf.compare(Buffer.alloc(BS), 0, BS, off, off + BS) === 0;
}

/** The end of the written slots of a segment file (files are created at full size). */
function writtenEnd(buf: Buffer): number {
  let end = buf.length;
  while (end > 0 && unwritten(buf, end - BS)) end -= BS;
  return end;
}

function restore(...names: string[]): void {
  // An open may write the segment record too (an entry for an adopted file).
  for (const n of new Set([...names, 'birch.segments'])) setContent(path.join(dir, n), pristine.get(n)!);
}

type Outcome = 'correct' | 'detected' | 'rolledBack';

function isCorrupt(err: unknown, what: string, allowNotAStore = false): boolean {
  if (err instanceof BirchError && (err.code === 'BIRCH_CORRUPT' || (allowNotAStore && err.code === 'BIRCH_NOT_A_STORE'))) return true;
  throw new Error(`${what}: threw ${err instanceof BirchError ? err.code : 'a non-birch error'}: ${String(err)}`, { cause: err });
}

/** The pairs of `s` in key order (hex order is byte order). */
const sortedCache = new WeakMap<State, [string, string][]>();
function sorted(s: State): [string, string][] {
  let out = sortedCache.get(s);
  if (out === undefined) sortedCache.set(s, (out = [...s].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))));
  return out;
}

/**
 * Open and read everything every way. Every value returned must fit one
 * reference state throughout: the last commit, or (recovery cut the last
 * append away) an earlier committed state; never a mixture, never a value
 * nobody committed. Every error must be BIRCH_CORRUPT.
 */
function probeStore(what: string, allowNotAStore = false, rollbackTo: State[] = history.slice(-2, -1)): Outcome {
  let db: Store;
  try {
    db = open(dir, { ...OPTS, cacheSize: 0 });
  } catch (err) {
    isCorrupt(err, `${what}: open`, allowNotAStore);
    return 'detected';
  }
  let detected = false;
  // The states everything seen so far fits.
  let refs: State[] = [final, ...rollbackTo];
  const fits = (test: (ref: State, sortedRef: [string, string][]) => boolean, say: string): void => {
    const left = refs.filter((r) => test(r, sorted(r)));
    if (left.length === 0) expect.fail(`${what}: WRONG DATA: ${say}`);
    refs = left;
  };
  const scan = (reverse: boolean): void => {
    let i = 0;
    try {
      for (const [k, v] of db.range({ reverse })) {
        const item = [k.toString('hex'), v.toString('hex')];
        const at = i;
        fits((_r, sr) => {
          const want = reverse ? sr[sr.length - 1 - at] : sr[at];
          return want !== undefined && want[0] === item[0] && want[1] === item[1];
        }, `${reverse ? 'reverse ' : ''}range item ${at} is ${item[0]}=${item[1]!.slice(0, 20)}`);
        i++;
      }
      fits((r) => r.size === i, `${reverse ? 'reverse ' : ''}range ended after ${i} pairs`);
    } catch (err) {
      if (err instanceof Error && err.message.includes('WRONG DATA')) throw err;
      isCorrupt(err, `${what}: range`);
      detected = true;
    }
  };
  try {
    scan(false);
    const c = db.check();
    if (!c.ok) detected = true;
    else fits((r) => r.size === c.keys, `check() passed, counting ${c.keys} keys`);
    for (const k of keys) {
      const hex = k.toString('hex');
      let got: string | undefined;
      try {
        got = db.get(k)?.toString('hex');
      } catch (err) {
        isCorrupt(err, `${what}: get`);
        detected = true;
        continue;
      }
      fits((r) => r.get(hex) === got, `get(${k.toString()}) = ${got?.slice(0, 20)}`);
    }
    scan(true);
    if (detected) return 'detected';
    return refs.includes(final) ? 'correct' : 'rolledBack';
  } finally {
    void db.close();
  }
}

function flip(file: string, offset: number, bit: number): void {
  const p = path.join(dir, file);
  const fd = fs.openSync(p, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0]! ^= 1 << bit;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flip one bit, probe, restore; returns the outcome. */
async function flipTrial(file: string, offset: number, bit: number, allowNotAStore = false): Promise<Outcome> {
  const what = `bit ${bit} of byte ${offset} of ${file}`;
  flip(file, offset, bit);
  let out: Outcome;
  try {
    out = probeStore(what, allowNotAStore);
  } finally {
    await new Promise((r) => setImmediate(r)); // let close() finish (it releases the lock)
    restore(file, tailFile);
  }
  figures.flips++;
  if (out === 'detected') figures.detected++;
  else if (out === 'rolledBack') figures.rolledBack++;
  else figures.harmless++;
  return out;
}

describe('bit flips', () => {
  it('the untouched store reads back correctly', () => {
    expect(probeStore('pristine')).toBe('correct');
  });

  it('every bit of the meta file: BIRCH_CORRUPT (or BIRCH_NOT_A_STORE when the magic is hit), never a store opened wrong', async () => {
    const meta = pristine.get(META_FILE)!;
    for (let off = 0; off < meta.length; off++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(await flipTrial(META_FILE, off, bit, off < 8), `meta byte ${off} bit ${bit}`).toBe('detected');
      }
    }
  });

  it('checksummed bytes of live pages: detected, or (last append only) rolled back to the previous commit', async () => {
    const rng = new Rng(72);
    const positions: [Slot, number][] = [];
    const lastPositions: [Slot, number][] = [];
    for (const s of slots) {
      if (!s.live) continue;
      for (let o = 0; o < BLOCK_HEADER_SIZE + s.length; o++) (s.lastAppend ? lastPositions : positions).push([s, o]);
    }
    const sample = (from: [Slot, number][], n: number): (readonly [[Slot, number], number])[] =>
      n >= from.length * 8
        ? from.flatMap((p) => [0, 1, 2, 3, 4, 5, 6, 7].map((b) => [p, b] as const))
        : Array.from({ length: n }, () => [rng.pick(from), rng.int(8)] as const);
    figures.liveBits = positions.length * 8;
    figures.lastBits = lastPositions.length * 8;
    const chosen = [...sample(positions, SAMPLE), ...sample(lastPositions, SOAK ? 5000 : 150)];
    for (const [[s, o], bit] of chosen) {
      const out = await flipTrial(s.file, s.offset + o, bit);
      if (s.lastAppend) {
        // Recovery takes it for a torn write and cuts it; the previous commit
        // then shows whole, or (its pages were freed since) open says CORRUPT.
        expect(['rolledBack', 'detected'], `last append, block ${s.blockNo} byte ${o}`).toContain(out);
        if (out === 'detected') figures.lastAppendDetected++;
      } else {
        figures.liveFlips++;
        expect(out, `live block ${s.blockNo} byte ${o} bit ${bit}`).toBe('detected');
        figures.liveDetected++;
      }
    }
  });

  it('checksummed bytes of dead pages, and the zero padding: correct data or detected', async () => {
    const rng = new Rng(73);
    const dead = slots.filter((s) => !s.live);
    expect(dead.length).toBeGreaterThan(10);
    const n = SOAK ? 4000 : 250;
    for (let i = 0; i < n; i++) {
      const s = rng.pick(dead);
      const o = rng.int(BLOCK_HEADER_SIZE + s.length);
      const out = await flipTrial(s.file, s.offset + o, rng.int(8));
      // A dead page is never read, except by recovery when it is in the tail file.
      if (s.file !== tailFile) expect(out).toBe('correct');
      else if (s.lastAppend) expect(['rolledBack', 'detected']).toContain(out);
      else expect(out).toBe('detected');
    }
    for (let i = 0; i < n; i++) {
      const s = rng.pick(slots.filter((x) => x.length + BLOCK_HEADER_SIZE < BS));
      const o = BLOCK_HEADER_SIZE + s.length + rng.int(BS - BLOCK_HEADER_SIZE - s.length);
      expect(await flipTrial(s.file, s.offset + o, rng.int(8))).toBe('correct');
    }
  });
});

describe('truncation', () => {
  it('any segment file cut at many lengths: detected, or harmless (only unwritten slots of an older file cut)', async () => {
    const rng = new Rng(74);
    const segs = [...pristine.keys()].filter((n) => n.endsWith('.seg'));
    let rolled = 0;
    for (const f of segs) {
      const size = pristine.get(f)!.length;
      const lengths = new Set<number>([0, 1, 31, 32, 33, size - 1]);
      for (let b = BS; b < size; b += BS) for (const d of [-1, 0, 1]) lengths.add(b + d);
      for (let i = 0; i < (SOAK ? 40 : 6); i++) lengths.add(rng.int(size));
      for (const len of lengths) {
        if (len < 0 || len >= size) continue;
        const p = path.join(dir, f);
        fs.truncateSync(p, len);
        const what = `${f} cut to ${len} of ${size} bytes`;
        let out: Outcome;
        try {
          out = probeStore(what, false, history.slice(0, -1));
        } finally {
          await new Promise((r) => setImmediate(r));
          restore(f, tailFile);
        }
        figures.truncations++;
        if (out === 'rolledBack') rolled++;
        // The tail file is created at its full size: any cut is a lost end.
        if (f === tailFile) expect(out, what).toBe('detected');
      }
    }
    expect(rolled, 'a cut file is never taken for a torn write').toBe(0);
    figures.truncRolledBack += rolled;
  });

  it('the meta file cut at every length: BIRCH_CORRUPT or BIRCH_NOT_A_STORE', async () => {
    const size = pristine.get(META_FILE)!.length;
    for (let len = 0; len < size; len++) {
      fs.truncateSync(path.join(dir, META_FILE), len);
      try {
        expect(probeStore(`meta cut to ${len}`, true)).toBe('detected');
      } finally {
        await new Promise((r) => setImmediate(r));
        restore(META_FILE);
      }
      figures.truncations++;
    }
  });

  it('a segment file that vanished: detected (the segment record lists it), live pages or not', async () => {
    const segs = [...pristine.keys()].filter((n) => n.endsWith('.seg')).sort();
    expect(segs[segs.length - 1]).toBe(tailFile);
    for (const f of segs) {
      fs.rmSync(path.join(dir, f));
      let out: Outcome;
      try {
        out = probeStore(`${f} deleted`);
      } finally {
        await new Promise((r) => setImmediate(r));
        restore(f, tailFile);
      }
      expect(out, f).toBe('detected');
    }
  });
});

describe('damage to the last append after its predecessor was freed', () => {
  it('open raises BIRCH_CORRUPT instead of serving a predecessor whose pages are gone', async () => {
    // Wanted: a last commit F that rewrote the oldest leaves (so the segment
    // holding them was deleted) and a predecessor P whose root is still on
    // disk, in the tail file beside F. Filler commits shift the layout until
    // P and F share the tail file.
    let found = 0;
    for (let pad = 0; pad < 12 && found < 3; pad++) {
      const r = tmpDir('birch-corrupt-');
      try {
        const d = path.join(r, 'store');
        const db = open(d, OPTS);
        const rng = new Rng(75);
        for (let g = 0; g < 10; g++) {
          await db.batch(Array.from({ length: 30 }, (_, i) => ({ type: 'put' as const, key: keyOf(g * 30 + i), value: valueFor(rng, `g${g}`) })));
        }
        for (let i = 0; i < pad; i++) await db.put(keyOf(299), `pad ${i}`);
        await db.put(keyOf(298), 'P'); // P: its oldest leaf is the first one written
        // F: rewrite the first 40 keys' leaves: the oldest segment is freed after it.
        await db.batch(Array.from({ length: 40 }, (_, i) => ({ type: 'put' as const, key: keyOf(i), value: 'F' })));
        const want = readState(db);
        await db.close();
        const segs = fs.readdirSync(d).filter((n) => n.endsWith('.seg')).sort();
        const tailName = segs[segs.length - 1]!;
        const tail = path.join(d, tailName);
        const buf = fs.readFileSync(tail);
        const end = writtenEnd(buf);
        const first = parseSegmentName(tailName)!;
        const fFirst = buf.readUInt32LE(end - BS + 12); // appendFirst of the last block
        if (fFirst === first || parseSegmentName(segs[0]!) === 0) continue; // P's root not in the tail file, or nothing freed
        found++;
        for (const at of [(fFirst - first) * BS + 40, end - BS + 20, end - 1 - (BS - 32 - buf.readUInt32LE(end - BS + 24))]) {
          flipAt(tail, at);
          try {
            const bad = open(d, OPTS);
            await bad.close();
            expect.fail(`a flip at ${at} of the last append: open succeeded`);
          } catch (err) {
            expect((err as BirchError).code, String(err)).toBe('BIRCH_CORRUPT');
            expect(String(err)).toMatch(/below the first block on disk/);
          }
          setContent(tail, buf);
          figures.flips++;
          figures.detected++;
          figures.lastAppendDetected++;
        }
        const again = open(d, OPTS);
        expect(readState(again)).toEqual(want);
        expect(again.check().ok).toBe(true);
        await again.close();
      } finally {
        rmDir(r);
      }
    }
    expect(found).toBeGreaterThan(0);
  });
});

function flipAt(file: string, offset: number): void {
  const b = fs.readFileSync(file);
  b[offset]! ^= 0x10;
  setContent(file, b);
}

