import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Dataset, GROUP_SIZE, pairKey, pairValue, randomInts, tokyoKey } from '../../bench/data.js';

/** BRIEF.md's definition, written out again independently of bench/data.ts. */
function be64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}
function refKey(x: number, y: number): Buffer {
  return Buffer.concat([be64(x), sha256(Buffer.from([0]), be64(x), be64(y))]);
}
function refValue(x: number, y: number): Buffer {
  return Buffer.concat([be64(x * 65536 + y), sha256(Buffer.from([1]), be64(x), be64(y))]);
}

/** The vectors bench/README.md lists. */
const VECTORS: { x: number; y: number; key: string; value: string }[] = [
  {
    x: 0,
    y: 0,
    key: '00000000000000000a88111852095cae045340ea1f0b279944b2a756a213d9b50107d7489771e159',
    value: '0000000000000000f0d278eacbee4eeac1f3cc75d5efda8dc5dff129bed3da9ad3b0e11fc64ae910',
  },
  {
    x: 0,
    y: 1,
    key: '0000000000000000bd839e8f98c7bf2b8f2bf476f25ffc4ca923273ec4160ff74469c8715d0a698a',
    value: '00000000000000015cf6a7dc71a7efbaf3bce033a0f76d70233a32d9a26844ebfb4282f2af464217',
  },
  {
    x: 1,
    y: 65535,
    key: '000000000000000197c8f28aaa9a535fa13eaa888a4b04afe4ae500ab357d5997a72ff7b990cbe67',
    value: '000000000001ffffcbef9e552c60778975c2fb763b3310828dfd7db6ced6d37b6920ee89bc20247b',
  },
  {
    x: 15,
    y: 12345,
    key: '000000000000000f7a5910b3ce9b48834a0c061b9bfeb3a4c022204161d226c0f2991955147826d8',
    value: '00000000000f303923d799e442269efb5158275942cd6b88e03f3ef94f1c163ab68e15f528e6b4b8',
  },
];

describe('bench data generator', () => {
  it('matches the definition byte for byte on known vectors', () => {
    for (const v of VECTORS) {
      expect(refKey(v.x, v.y).toString('hex')).toBe(v.key);
      expect(refValue(v.x, v.y).toString('hex')).toBe(v.value);
      expect(pairKey(v.x, v.y).toString('hex')).toBe(v.key);
      expect(pairValue(v.x, v.y).toString('hex')).toBe(v.value);
    }
  });

  it('lists the same vectors in bench/README.md', () => {
    const readme = readFileSync(new URL('../../bench/README.md', import.meta.url), 'utf8');
    for (const v of VECTORS) {
      expect(readme).toContain(v.key);
      expect(readme).toContain(v.value);
    }
  });

  it('matches the definition for sampled pairs', () => {
    for (const [x, y] of [[0, 2], [0, 65534], [2, 0], [3, 40000], [1000, 777]] as const) {
      expect(pairKey(x, y)).toEqual(refKey(x, y));
      expect(pairValue(x, y)).toEqual(refValue(x, y));
    }
  });

  it('holds every pair of the store exactly once, in sorted key order', () => {
    const n = GROUP_SIZE + 1000; // one whole group and a short second one
    const d = new Dataset(n);
    const seen = new Set<number>();
    const problems: string[] = [];
    for (let i = 0; i < n; i++) {
      const key = d.key(i);
      const value = d.value(i);
      if (key.length !== 40 || value.length !== 40) problems.push(`pair ${i}: wrong length`);
      if (i > 0 && Buffer.compare(d.key(i - 1), key) >= 0) problems.push(`pair ${i}: out of order`);
      // The value's first 8 bytes number the pair: X * 65536 + Y.
      const id = Number(value.readBigUInt64BE(0));
      const x = Math.floor(id / 65536);
      const y = id % 65536;
      seen.add(id);
      if (i % 997 === 0 || i === n - 1) {
        if (!key.equals(refKey(x, y)) || !value.equals(refValue(x, y))) problems.push(`pair ${i}: not (${x}, ${y})`);
      }
      if (key.readUInt32BE(0) !== 0 || key.readUInt32BE(4) !== x) problems.push(`pair ${i}: key prefix is not X`);
    }
    expect(problems).toEqual([]);
    expect(seen.size).toBe(n);
    expect(Math.max(...seen)).toBe(65536 + 999);
  });

  it('puts the known first pair of a store first', () => {
    // Group 0's smallest key hash belongs to Y = 39645 (0x9add).
    const d = new Dataset(GROUP_SIZE);
    expect(d.key(0)).toEqual(refKey(0, 39645));
    expect(d.value(0).toString('hex')).toBe(
      '0000000000009add295c0cef68f6185e2c587849843461a88c25c26cf522bace5464d0b5db2bb78a',
    );
  });

  it('update values differ from the loaded values and alternate by round', () => {
    const d = new Dataset(10);
    for (let i = 0; i < 10; i++) {
      const v = d.value(i);
      const u = d.updateValue(i, 1);
      expect(u).not.toEqual(v);
      for (let b = 0; b < 40; b++) expect(u[b]).toBe(~v[b]! & 0xff);
      expect(d.updateValue(i, 2)).toEqual(v);
    }
  });

  it('builds tokyo keys as 8-digit decimal', () => {
    expect(tokyoKey(0).toString()).toBe('00000000');
    expect(tokyoKey(123).toString()).toBe('00000123');
    expect(tokyoKey(999_999).toString()).toBe('00999999');
  });

  it('draws repeatable random integers in range', () => {
    const a = randomInts(42);
    const b = randomInts(42);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const r = a(10);
      expect(r).toBe(b(10));
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(10);
      counts[r]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
