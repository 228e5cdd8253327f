/**
 * Opening: options are checked before anything is touched; a directory that
 * is not a birch store is refused and left exactly as it was; the block size
 * is recorded and enforced; a foreign or damaged meta file is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockStore, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from '../../src/lbs/index.js';
import { FaultFS } from '../helpers/faultfs.js';
import { expectCode, flipBit } from '../helpers/lbs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-lbs-open-');

/** name -> content of every file in `dir` (one level). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    out[n] = fs.statSync(p).isDirectory() ? '<dir>' : fs.readFileSync(p).toString('hex');
  }
  return out;
}

async function made(dir: string, blockSize: number): Promise<void> {
  const s = BlockStore.open(dir, { blockSize });
  await s.append([Buffer.from('x')]);
  await s.close();
}

describe('open', () => {
  it('creates the directory (and missing parents) and the meta file', async () => {
    const dir = path.join(tmp(), 'a', 'b');
    const s = BlockStore.open(dir, { blockSize: 1024 });
    expect(fs.readdirSync(dir).sort()).toEqual(['birch.lock', 'birch.meta', 'birch.segments']);
    expect(fs.statSync(path.join(dir, 'birch.meta')).size).toBe(32);
    expect(fs.statSync(path.join(dir, 'birch.segments')).size).toBe(0);
    expect(s.stats()).toMatchObject({ blockSize: 1024, firstBlock: 0, nextBlock: 0, segments: 0, blocksOnDisk: 0 });
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.blockSize).toBe(1024);
    await t.close();
  });

  it('reopening with another block size fails with BIRCH_BLOCK_SIZE; the same or none is fine', async () => {
    const dir = tmp();
    await made(dir, 1024);
    for (const bs of [512, 2048, 4096, 1025]) expectCode(() => BlockStore.open(dir, { blockSize: bs }), 'BIRCH_BLOCK_SIZE');
    const s = BlockStore.open(dir, { blockSize: 1024 });
    expect(s.read(0).toString()).toBe('x');
    await s.close();
  });

  it('invalid options fail with BIRCH_BAD_ARGUMENT before anything is created', () => {
    const root = tmp();
    const dir = path.join(root, 'never');
    const bad: unknown[] = [0, -512, MIN_BLOCK_SIZE - 1, MAX_BLOCK_SIZE + 1, 4096.5, NaN, Infinity, '4096', null];
    for (const blockSize of bad) {
      expectCode(() => BlockStore.open(dir, { blockSize: blockSize as number }), 'BIRCH_BAD_ARGUMENT');
    }
    for (const segmentSize of [0, -1, 1.5, NaN, '1' as unknown as number]) {
      expectCode(() => BlockStore.open(dir, { segmentSize }), 'BIRCH_BAD_ARGUMENT');
    }
    expectCode(() => BlockStore.open(dir, { sync: 'yes' as unknown as boolean }), 'BIRCH_BAD_ARGUMENT');
    expect(fs.existsSync(dir)).toBe(false);
    // The bounds themselves are valid.
    for (const blockSize of [MIN_BLOCK_SIZE, MAX_BLOCK_SIZE]) {
      const d = path.join(root, String(blockSize));
      const s = BlockStore.open(d, { blockSize });
      expect(s.blockSize).toBe(blockSize);
      void s.close();
    }
  });

  it('a directory holding foreign files is not a store, and is left untouched (no lock file)', () => {
    for (const names of [['notes.txt'], ['0000000000000000.seg'], ['birch.meta.tmp', 'x'], ['sub/']]) {
      const dir = tmp();
      for (const n of names) {
        if (n.endsWith('/')) fs.mkdirSync(path.join(dir, n));
        else fs.writeFileSync(path.join(dir, n), 'hello');
      }
      const before = snapshot(dir);
      const err = expectCode(() => BlockStore.open(dir), 'BIRCH_NOT_A_STORE');
      expect(err.file).toBe(dir);
      expect(snapshot(dir)).toEqual(before);
    }
  });

  it('a path that is a regular file is not a store', () => {
    const file = path.join(tmp(), 'plain');
    fs.writeFileSync(file, 'data');
    expectCode(() => BlockStore.open(file), 'BIRCH_NOT_A_STORE');
    expect(fs.readFileSync(file, 'utf8')).toBe('data');
  });

  it('a birch.meta with foreign magic is not a store; a damaged one is BIRCH_CORRUPT', async () => {
    const foreign = tmp();
    fs.writeFileSync(path.join(foreign, 'birch.meta'), Buffer.from('SQLite format 3\0 and then more bytes'));
    expectCode(() => BlockStore.open(foreign), 'BIRCH_NOT_A_STORE');
    const empty = tmp();
    fs.writeFileSync(path.join(empty, 'birch.meta'), '');
    expectCode(() => BlockStore.open(empty), 'BIRCH_NOT_A_STORE');

    const good = tmp();
    await made(good, 512);
    const meta = fs.readFileSync(path.join(good, 'birch.meta'));
    const damaged: [string, (b: Buffer) => Buffer][] = [
      ['flipped version', (b) => (b[8] = b[8]! ^ 1, b)],
      ['flipped block size', (b) => (b[13] = b[13]! ^ 4, b)],
      ['flipped reserved', (b) => (b[20] = 1, b)],
      ['flipped CRC', (b) => (b[30] = b[30]! ^ 0x80, b)],
      ['cut short', (b) => b.subarray(0, 20)],
      ['one byte too long', (b) => Buffer.concat([b, Buffer.alloc(1)])],
    ];
    for (const [what, damage] of damaged) {
      const dir = tmp();
      fs.cpSync(good, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'birch.meta'), damage(Buffer.from(meta)));
      const err = expectCode(() => BlockStore.open(dir), 'BIRCH_CORRUPT');
      expect(err.file, what).toBe(path.join(dir, 'birch.meta'));
    }
    // Correctly checksummed but meaningless values are corrupt too; a version
    // above this birch's is a newer birch's store (BIRCH_VERSION), one past
    // any plausible version is damage.
    for (const [off, value, code] of [
      [8, 0, 'BIRCH_CORRUPT'],
      [8, 3, 'BIRCH_VERSION'],
      [8, 1 << 20, 'BIRCH_CORRUPT'],
      [12, 100, 'BIRCH_CORRUPT'],
      [12, 1 << 20, 'BIRCH_CORRUPT'],
    ] as const) {
      const dir = tmp();
      fs.cpSync(good, dir, { recursive: true });
      const b = Buffer.from(meta);
      b.writeUInt32LE(value, off);
      const CRC32 = (await import('crc-32')).default;
      b.writeUInt32LE(CRC32.buf(b.subarray(0, 28), 0) >>> 0, 28);
      fs.writeFileSync(path.join(dir, 'birch.meta'), b);
      expectCode(() => BlockStore.open(dir), code);
    }
    // The undamaged original still opens.
    const s = BlockStore.open(good);
    expect(s.read(0).toString()).toBe('x');
    await s.close();
  });

  it('a creation that crashed before the meta rename (a stray birch.meta.tmp) is started over', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'birch.meta.tmp'), 'half-written garbage');
    fs.writeFileSync(path.join(dir, 'birch.lock'), '');
    const s = BlockStore.open(dir, { blockSize: 2048 });
    expect(fs.readdirSync(dir).sort()).toEqual(['birch.lock', 'birch.meta', 'birch.segments']);
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.blockSize).toBe(2048);
    await t.close();
  });

  it('a store created in a new directory survives a power loss once an append resolved', async () => {
    for (let seed = 1; seed <= 16; seed++) {
      const root = tmp();
      const io = new FaultFS(root);
      const dir = path.join(root, 'new', 'store');
      const s = BlockStore.open(dir, { io, blockSize: 512 });
      await s.append([Buffer.from('durable')]);
      await s.close();
      io.crash(new Rng(seed));
      // The new directories' own entries had to be made durable too.
      const t = BlockStore.open(dir);
      expect(t.nextBlock, `seed ${seed}`).toBe(1);
      expect(t.read(0).toString()).toBe('durable');
      await t.close();
    }
  });

  it('a damaged magic in birch.meta reads as a foreign file', async () => {
    const dir = tmp();
    await made(dir, 512);
    flipBit(path.join(dir, 'birch.meta'), 3);
    expectCode(() => BlockStore.open(dir), 'BIRCH_NOT_A_STORE'); // the magic itself is damaged
  });
});

describe('format versions', () => {
  it('a version-1 store (birch 0.1.0) is refused with BIRCH_VERSION, saying how to move it, and left as it was', async () => {
    const { encodeMeta } = await import('../../src/lbs/format.js');
    const dir = tmp();
    await made(dir, 512);
    fs.writeFileSync(path.join(dir, 'birch.meta'), encodeMeta(512, 1));
    const before = snapshot(dir);
    const err = expectCode(() => BlockStore.open(dir), 'BIRCH_VERSION');
    expect(err.message).toMatch(/birch dump/);
    expect(snapshot(dir)).toEqual(before);
  });
});
