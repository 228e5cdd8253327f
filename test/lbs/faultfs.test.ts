/**
 * The FaultFS test helper itself: the crash tests are only as good as its
 * model, so check that a power loss keeps what was synced and, across seeds,
 * produces every outcome it claims for what was not; and that injected
 * errors hit exactly the calls asked for.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultFS } from '../helpers/faultfs.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-faultfs-');
const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

/** Run `setup` on a fresh FaultFS, crash it with each seed, and collect `observe` of the result. */
async function outcomes<T>(
  setup: (io: FaultFS, root: string) => Promise<void> | void,
  observe: (root: string) => T,
  before?: (root: string) => void, // files made before the FaultFS exists count as durable
): Promise<T[]> {
  const out: T[] = [];
  for (const seed of SEEDS) {
    const root = tmp();
    before?.(root);
    const io = new FaultFS(root);
    await setup(io, root);
    io.crash(new Rng(seed));
    out.push(observe(root));
  }
  return out;
}

const read = (p: string): string | undefined => (fs.existsSync(p) ? fs.readFileSync(p, 'latin1') : undefined);

describe('FaultFS power loss', () => {
  it('keeps synced data and entries on every crash', async () => {
    const seen = await outcomes(
      async (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'wx+');
        await io.write(fd, Buffer.from('hello world'), 0, 11, 0);
        await io.fdatasync(fd);
        await io.fsyncDir(root);
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f')),
    );
    expect(new Set(seen)).toEqual(new Set(['hello world']));
  });

  it('drops, keeps, tears and garbles an unsynced write, each on some seed', async () => {
    const seen = await outcomes(
      async (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'wx+');
        io.fsyncDirSync(root);
        await io.write(fd, Buffer.from('AAAA'), 0, 4, 0);
        await io.fdatasync(fd);
        await io.write(fd, Buffer.from('BBBBBBBBBBBBBBBB'), 0, 16, 4);
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f'))!,
    );
    expect(seen.every((s) => s.startsWith('AAAA'))).toBe(true);
    expect(seen).toContain('AAAA'); // dropped
    expect(seen).toContain('AAAA' + 'B'.repeat(16)); // kept
    expect(seen.some((s) => /^AAAAB{1,15}$/.test(s))).toBe(true); // a prefix
    expect(seen.some((s) => s.length === 20 && /[^AB]/.test(s))).toBe(true); // garbage inside
  });

  it('a file created without a directory fsync may vanish; after one it stays', async () => {
    const unsynced = await outcomes(
      async (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'wx+');
        await io.write(fd, Buffer.from('x'), 0, 1, 0);
        await io.fdatasync(fd);
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f')),
    );
    expect(new Set(unsynced)).toEqual(new Set([undefined, 'x']));
  });

  it('an unlink not covered by a directory fsync may be undone, with the durable content', async () => {
    const seen = await outcomes(
      async (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'wx+');
        io.writeSync(fd, Buffer.from('durable'), 0, 7, 0);
        io.fsyncSync(fd);
        io.fsyncDirSync(root);
        io.closeSync(fd);
        await io.unlink(path.join(root, 'f'));
      },
      (root) => read(path.join(root, 'f')),
    );
    expect(new Set(seen)).toEqual(new Set([undefined, 'durable']));
    const synced = await outcomes(
      async (io, root) => {
        await io.unlink(path.join(root, 'g'));
        await io.fsyncDir(root);
      },
      (root) => read(path.join(root, 'g')),
      (root) => fs.writeFileSync(path.join(root, 'g'), 'old'),
    );
    expect(new Set(synced)).toEqual(new Set([undefined]));
  });

  it('a rename not covered by a directory fsync leaves the old name, the new, or both', async () => {
    const seen = await outcomes(
      (io, root) => {
        const fd = io.openSync(path.join(root, 'tmp'), 'w');
        io.writeSync(fd, Buffer.from('m'), 0, 1, 0);
        io.fsyncSync(fd);
        io.closeSync(fd);
        io.fsyncDirSync(root);
        io.renameSync(path.join(root, 'tmp'), path.join(root, 'meta'));
      },
      (root) => fs.readdirSync(root).sort().join(','),
    );
    expect(new Set(seen)).toEqual(new Set(['tmp', 'meta']));
  });

  it('a directory made without fsyncing its parent may vanish with everything in it', async () => {
    const seen = await outcomes(
      async (io, root) => {
        const dir = path.join(root, 'd');
        io.mkdirSync(dir);
        const fd = io.openSync(path.join(dir, 'f'), 'wx+');
        await io.write(fd, Buffer.from('x'), 0, 1, 0);
        await io.fdatasync(fd);
        await io.fsyncDir(dir);
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'd', 'f')) ?? (fs.existsSync(path.join(root, 'd')) ? 'empty dir' : 'gone'),
    );
    expect(new Set(seen)).toEqual(new Set(['x', 'gone']));
  });

  it('an unsynced truncate may or may not happen; files it found are durable', async () => {
    const seen = await outcomes(
      (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'r+');
        io.ftruncateSync(fd, 4);
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f')),
      (root) => fs.writeFileSync(path.join(root, 'f'), '0123456789'),
    );
    expect(new Set(seen)).toEqual(new Set(['0123', '0123456789']));
  });
});

describe('FaultFS after a failed fsync (Linux: the dirty pages were dropped, the error is reported once)', () => {
  it('the unsynced writes are lost to every later fsync, which succeeds: a crash drops, keeps or tears each; later syncs hold', async () => {
    const live: string[] = [];
    const seen = await outcomes(
      async (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'wx+');
        io.fsyncDirSync(root);
        await io.write(fd, Buffer.from('AAAA'), 0, 4, 0);
        await io.fdatasync(fd);
        await io.write(fd, Buffer.from('BBBB'), 0, 4, 4);
        io.failAt({ n: 1, kind: 'fdatasync', code: 'EIO' });
        await expect(io.fdatasync(fd)).rejects.toMatchObject({ code: 'EIO' });
        await io.fdatasync(fd); // reported once: the retry succeeds, and makes nothing durable
        await io.write(fd, Buffer.from('CCCC'), 0, 4, 8);
        io.fsyncSync(fd);
        const buf = Buffer.alloc(12);
        io.readSync(fd, buf, 0, 12, 0);
        live.push(buf.toString('latin1')); // the page cache still serves the lost write
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f'))!,
    );
    expect(new Set(live)).toEqual(new Set(['AAAABBBBCCCC']));
    // What was synced before the failure, and what was written and synced after it, always survive.
    expect(seen.every((s) => s.length === 12 && s.startsWith('AAAA') && s.endsWith('CCCC'))).toBe(true);
    expect(seen).toContain('AAAA\0\0\0\0CCCC'); // lost
    expect(seen).toContain('AAAABBBBCCCC'); // reached the disk during the failed write-back after all
    expect(seen.some((s) => /^AAAAB{1,3}\0{1,3}CCCC$/.test(s))).toBe(true); // torn
  });

  it('the same for a failed fsyncSync; a truncate made before the failure stays pending, and the next sync makes it durable', async () => {
    const seen = await outcomes(
      (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'r+');
        io.ftruncateSync(fd, 4);
        io.writeSync(fd, Buffer.from('XY'), 0, 2, 4);
        io.failAt({ n: 1, kind: 'fdatasync', code: 'ENOSPC' });
        expect(() => io.fsyncSync(fd)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
        io.fsyncSync(fd);
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f')),
      (root) => fs.writeFileSync(path.join(root, 'f'), '0123456789'),
    );
    expect(seen.every((s) => s !== undefined && /^0123(X|XY|[^6]{1,2})?$/.test(s))).toBe(true);
    expect(seen).toContain('0123');
    expect(seen).toContain('0123XY');
  });

  it('a failure that lasts (sticky) loses every write made meanwhile; what was synced before stays', async () => {
    const seen = await outcomes(
      async (io, root) => {
        const fd = io.openSync(path.join(root, 'f'), 'wx+');
        io.fsyncDirSync(root);
        io.writeSync(fd, Buffer.from('AA'), 0, 2, 0);
        io.fsyncSync(fd);
        io.failAt({ n: 1, kind: 'fdatasync', code: 'EIO', sticky: true });
        for (const [i, c] of ['B', 'C'].entries()) {
          await io.write(fd, Buffer.from(c), 0, 1, 2 + i);
          await expect(io.fdatasync(fd)).rejects.toMatchObject({ code: 'EIO' });
        }
        io.closeSync(fd);
      },
      (root) => read(path.join(root, 'f'))!,
    );
    expect(seen.every((s) => s.startsWith('AA') && s.length <= 4)).toBe(true);
    expect(seen).toContain('AA');
    expect(seen).toContain('AABC');
  });
});

describe('FaultFS errors and counters', () => {
  it('fails the n-th call of a kind, once, with a proper errno error', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    const fd = io.openSync(path.join(root, 'f'), 'wx+');
    io.failAt({ n: 2, kind: 'fdatasync', code: 'ENOSPC' });
    await io.write(fd, Buffer.from('a'), 0, 1, 0);
    await io.fdatasync(fd); // 1st: fine
    const err = await io.fdatasync(fd).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ENOSPC');
    expect(err?.errno).toBe(-os.constants.errno.ENOSPC);
    expect(err?.syscall).toBe('fdatasync');
    await io.fdatasync(fd); // once only
    expect(io.count('fdatasync')).toBe(3);
    expect(io.count('write')).toBe(1);
    expect(io.ops).toBe(5);
    io.closeSync(fd);
    expect(io.openFds).toBe(0);
  });

  it('sticky faults fail every later call; counting all calls when no kind is given', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    io.statSync(root);
    io.failAt({ n: 2, code: 'EIO', sticky: true });
    io.statSync(root); // call 1 from now
    expect(() => io.readdirSync(root)).toThrow(expect.objectContaining({ code: 'EIO', errno: -os.constants.errno.EIO }));
    expect(() => io.statSync(root)).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => io.mkdirSync(path.join(root, 'x'))).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(fs.existsSync(path.join(root, 'x'))).toBe(false); // a failed call has no effect
    io.clearFaults();
    io.mkdirSync(path.join(root, 'x'));
    expect(io.trace).toEqual(['stat', 'stat', 'readdir', 'stat', 'mkdir', 'mkdir']);
  });

  it('is dead after crash(), except closeSync; crash() refuses while a call is in flight', async () => {
    const root = tmp();
    const io = new FaultFS(root);
    const fd = io.openSync(path.join(root, 'f'), 'wx+');
    const pending = io.write(fd, Buffer.from('a'), 0, 1, 0);
    expect(() => io.crash(new Rng(1))).toThrow();
    await pending;
    io.crash(new Rng(1));
    expect(io.crashed).toBe(true);
    expect(() => io.statSync(root)).toThrow();
    await expect(io.fdatasync(fd)).rejects.toThrow();
    io.closeSync(fd);
    expect(io.openFds).toBe(0);
  });
});
