/**
 * A real full disk, not FaultFS: a store on a small tmpfs (8 MiB) is filled
 * with concurrent puts until writes fail. Every failure must be a BirchError
 * (BIRCH_IO, caused by ENOSPC); after a filler file made beforehand is
 * deleted, the store must reopen with every acknowledged write, pass
 * check(), and take writes again.
 *
 * Needs root and permission to mount (a container may refuse it): otherwise
 * the test is skipped, with a note saying so.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BirchError, open, type Store } from '../../src/index.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';

/** Mount a tmpfs of `size` at a new directory; undefined (with the reason) where that is not allowed. */
function mountTmpfs(size: string): { dir: string } | { why: string } {
  if (process.getuid?.() !== 0) return { why: 'not running as root' };
  const dir = tmpDir('birch-fulldisk-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmDir(dir);
    return { why: `mount failed: ${(r.stderr || r.error?.message || '').trim()}` };
  }
  return { dir };
}

function unmount(dir: string): void {
  spawnSync('umount', [dir]);
  rmDir(dir);
}

const probe = mountTmpfs('1m');
const CAN_MOUNT = 'dir' in probe;
if ('dir' in probe) unmount(probe.dir);
else console.log(`[fulldisk] SKIPPED: cannot mount a tmpfs here (${probe.why})`);

const value = (i: number): Buffer => {
  const v = Buffer.alloc(200, i % 251);
  v.writeUInt32BE(i, 0);
  return v;
};
const key = (i: number): string => `key-${String(i).padStart(8, '0')}`;

describe.skipIf(!CAN_MOUNT)('a real full disk (tmpfs)', () => {
  it('fills up with BIRCH_IO errors only, keeps every acknowledged write, and takes writes again once there is room', async () => {
    const m = mountTmpfs('8m') as { dir: string };
    let db: Store | undefined;
    try {
      const filler = path.join(m.dir, 'filler');
      // 3 MiB to give back later. (With only 1 MiB, the reopened store's
      // cleaner, whose commits rewrite up to 2 x 256 leaves, 2 MiB of 4 KiB
      // blocks, filled the disk again at once and failed the store anew.)
      fs.writeFileSync(filler, Buffer.alloc(3 << 20, 1));
      const dir = path.join(m.dir, 'store');
      db = open(dir, { blockSize: 4096, segmentSize: 1 << 20 });
      const acked: number[] = [];
      const errors: unknown[] = [];
      let next = 0;
      // 64 writers of unique keys until the writes fail (and a little beyond).
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (errors.length < 200 && next < 1e6) {
            const i = next++;
            try {
              await db!.put(key(i), value(i));
              acked.push(i);
            } catch (err) {
              errors.push(err);
            }
          }
        }),
      );
      expect(acked.length, 'the disk took a good many writes first').toBeGreaterThan(3000);
      expect(errors.length).toBeGreaterThan(0);
      for (const err of errors) {
        expect(err).toBeInstanceOf(BirchError);
        expect((err as BirchError).code).toBe('BIRCH_IO');
      }
      const causes = new Map<string, number>();
      for (const e of errors) {
        const cause = (e as BirchError).cause;
        const what = cause instanceof BirchError ? 'the store failed by an earlier one' : ((cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause));
        causes.set(what, (causes.get(what) ?? 0) + 1);
      }
      const first = errors[0] as BirchError;
      expect((first.cause as NodeJS.ErrnoException).code, first.message).toBe('ENOSPC');
      await db.close();
      db = undefined;
      console.log(
        `[fulldisk] 8 MiB tmpfs: ${acked.length} puts acknowledged, then ${errors.length} rejected, all BIRCH_IO (caused by: ${[...causes].map(([c, n]) => `${c} ${n}`).join(', ')})`,
      );

      // Room again: every acknowledged write is there, and the store takes more.
      fs.rmSync(filler);
      db = open(dir);
      expect(db.check().ok).toBe(true);
      for (const i of acked) expect(db.get(key(i))?.equals(value(i)), key(i)).toBe(true);
      await db.put('after', 'room again');
      await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: `more-${j}`, value: 'x' })));
      await db.close();
      db = open(dir);
      expect(db.get('after')?.toString()).toBe('room again');
      expect(db.get('more-99')?.toString()).toBe('x');
      expect(db.check().ok).toBe(true);
      await db.close();
      db = undefined;
    } finally {
      await db?.close().catch(() => undefined);
      unmount(m.dir);
    }
  }, 120_000);
});
