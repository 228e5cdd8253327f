/**
 * Shared bits for the block store's tests: page generation, a record of what
 * was appended, reading it all back, and asserting BirchError codes.
 */
import * as fs from 'node:fs';
import { expect } from 'vitest';
import { BirchError, type BirchErrorCode } from '../../src/errors.js';
import type { BlockStore } from '../../src/lbs/index.js';
import type { Rng } from './rng.js';

export interface AppendRec {
  first: number;
  pages: Buffer[];
}

/** `count` pages of varied lengths: empty, full (`cap`), and random in between. */
export function makePages(rng: Rng, count: number, cap: number): Buffer[] {
  const pages: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.int(4);
    const len = r === 0 ? 0 : r === 1 ? cap : rng.range(1, cap);
    pages.push(rng.bytes(len));
  }
  return pages;
}

export function endOf(recs: readonly AppendRec[]): number {
  const last = recs[recs.length - 1];
  return last === undefined ? 0 : last.first + last.pages.length;
}

/** Every block of `recs` at or above `from` reads back byte for byte. */
export function expectAppends(store: BlockStore, recs: readonly AppendRec[], from = 0, what = ''): void {
  for (const r of recs) {
    r.pages.forEach((p, i) => {
      const b = r.first + i;
      if (b < from) return;
      const got = store.read(b);
      if (!got.equals(p)) {
        expect.fail(`${what} block ${b}: read ${got.length} bytes that differ from the ${p.length} appended`);
      }
    });
  }
}

/** Run `fn` and return the BirchError it throws; fails the test if it does not throw one. */
export function birchError(fn: () => unknown): BirchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BirchError);
    return err as BirchError;
  }
  return expect.fail('expected a BirchError, nothing was thrown');
}

export async function birchRejection(p: Promise<unknown>): Promise<BirchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BirchError);
    return err as BirchError;
  }
  return expect.fail('expected a rejection with a BirchError, the promise resolved');
}

export function expectCode(fn: () => unknown, code: BirchErrorCode): BirchError {
  const err = birchError(fn);
  expect(err.code).toBe(code);
  return err;
}

export async function expectRejectCode(p: Promise<unknown>, code: BirchErrorCode): Promise<BirchError> {
  const err = await birchRejection(p);
  expect(err.code).toBe(code);
  return err;
}

/** The `.seg` files in `dir`, sorted. */
export function segFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
}

/** Flip bit `bit` of byte `offset` in `file`. */
export function flipBit(file: string, offset: number, bit = 0): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    if (fs.readSync(fd, b, 0, 1, offset) !== 1) throw new Error(`flipBit: ${file} has no byte ${offset}`);
    b[0] = b[0]! ^ (1 << bit);
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}
