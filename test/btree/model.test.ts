/**
 * Model-based test: the store against a plain map, driven by a seeded PRNG.
 * Operations are issued in bursts without awaiting one by one, so they group
 * into shared commits; since birch applies operations in issue order, the
 * model applies each at issue time and predicts every result. Ranges (both
 * directions, with limits and prefixes), gets, reopen cycles and check() are
 * interleaved. Some bursts start by deleting a run of adjacent keys (up to a
 * quarter of the key pool) in one batch, which empties whole leaves and
 * parents and makes the balancer merge across them (the seams of merged
 * parents that strict mode must let through: with 20k keys it meets one).
 * A failure names its seed and configuration.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, type OpenOptions, type RangeOptions, type Store } from '../../src/index.js';
import { Rng } from '../helpers/rng.js';

function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Config {
  name: string;
  seed: number;
  ops: number;
  opts: OpenOptions;
  /** Distinct keys to draw from. Defaults to 1500 (many overwrites). */
  poolSize?: number;
  /** The height the tree must reach, so deep trees are really exercised. */
  minHeight?: number;
  /** Run reclaim() (clean everything old now) between some bursts. */
  reclaim?: boolean;
}

async function runModel(cfg: Config): Promise<void> {
  const rand = rng(cfg.seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (len: number): Buffer => {
    const b = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) b[i] = int(256);
    return b;
  };
  // A key pool with shared prefixes, the empty key and 255-byte keys.
  const pool: Buffer[] = [Buffer.alloc(0), Buffer.alloc(255, 0xff), Buffer.alloc(255, 0)];
  const prefixes = [Buffer.from('a'), Buffer.from('ab'), Buffer.from([0xff]), Buffer.from('user:'), Buffer.alloc(0)];
  while (pool.length < (cfg.poolSize ?? 1500)) {
    const p = prefixes[int(prefixes.length)]!;
    const r = rand();
    const len = r < 0.05 ? 255 - p.length : r < 0.1 ? 0 : 1 + int(24);
    pool.push(Buffer.concat([p, bytes(len)]));
  }
  const pickKey = (): Buffer => pool[int(pool.length)]!;
  const pickValue = (): Buffer => {
    const r = rand();
    return bytes(r < 0.05 ? 255 : r < 0.1 ? 0 : int(60));
  };

  const model = new Map<string, Buffer>();
  const hex = (b: Buffer): string => b.toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-model-'));
  dirs.push(dir);
  let db: Store = open(dir, cfg.opts);
  const ctx = (what: string): string => `${cfg.name} seed=${cfg.seed}: ${what}`;

  const expectRange = (opts: RangeOptions): void => {
    let keys = [...model.keys()].map((h) => Buffer.from(h, 'hex'));
    keys.sort(Buffer.compare);
    const within = (k: Buffer): boolean =>
      (opts.gt === undefined || k.compare(opts.gt as Buffer) > 0) &&
      (opts.gte === undefined || k.compare(opts.gte as Buffer) >= 0) &&
      (opts.lt === undefined || k.compare(opts.lt as Buffer) < 0) &&
      (opts.lte === undefined || k.compare(opts.lte as Buffer) <= 0) &&
      (opts.prefix === undefined || k.subarray(0, (opts.prefix as Buffer).length).equals(opts.prefix as Buffer));
    keys = keys.filter(within);
    if (opts.reverse) keys.reverse();
    if (opts.limit !== undefined) keys = keys.slice(0, opts.limit);
    const got = [...db.range(opts)];
    expect(got.map(([k]) => hex(k)), ctx(`range ${JSON.stringify(opts)}`)).toEqual(keys.map(hex));
    for (const [k, v] of got) expect(hex(v), ctx('range value')).toBe(hex(model.get(hex(k))!));
  };

  let issued = 0;
  while (issued < cfg.ops) {
    const burst = 1 + int(rand() < 0.2 ? 1500 : 200);
    const pending: Promise<void>[] = [];
    if (rand() < 0.15) {
      // A range delete: the next keys from a random one, up to a quarter of the pool, in one batch.
      const run = [...db.keys({ gte: pickKey(), limit: 1 + int(pool.length / 4) })];
      for (const k of run) expect(model.has(hex(k)), ctx('range delete key')).toBe(true);
      for (const k of run) model.delete(hex(k));
      pending.push(db.batch(run.map((k) => ({ type: 'del' as const, key: k }))));
      issued += run.length;
    }
    for (let i = 0; i < burst; i++, issued++) {
      const r = rand();
      const key = pickKey();
      const h = hex(key);
      const cur = model.get(h);
      if (r < 0.45) {
        const v = pickValue();
        model.set(h, v);
        pending.push(db.put(key, v));
      } else if (r < 0.6) {
        const expected = cur !== undefined;
        model.delete(h);
        pending.push(db.delete(key).then((x) => expect(x, ctx('delete result')).toBe(expected)));
      } else if (r < 0.67) {
        const v = pickValue();
        const expected = cur === undefined;
        if (expected) model.set(h, v);
        pending.push(db.add(key, v).then((x) => expect(x, ctx('add result')).toBe(expected)));
      } else if (r < 0.74) {
        const v = pickValue();
        const expected = cur !== undefined;
        if (expected) model.set(h, v);
        pending.push(db.modify(key, v).then((x) => expect(x, ctx('modify result')).toBe(expected)));
      } else if (r < 0.8) {
        const v = pickValue();
        const guess = cur !== undefined && rand() < 0.7 ? cur : pickValue();
        const expected = cur !== undefined && cur.equals(guess);
        if (expected) model.set(h, v);
        pending.push(db.cas(key, guess, v).then((x) => expect(x, ctx('cas result')).toBe(expected)));
      } else if (r < 0.85) {
        const guess = cur !== undefined && rand() < 0.7 ? cur : pickValue();
        const expected = cur !== undefined && cur.equals(guess);
        if (expected) model.delete(h);
        pending.push(db.cad(key, guess).then((x) => expect(x, ctx('cad result')).toBe(expected)));
      } else {
        const n = 1 + int(40);
        const ops = [];
        for (let j = 0; j < n; j++) {
          const k = pickKey();
          if (rand() < 0.7) {
            const v = pickValue();
            model.set(hex(k), v);
            ops.push({ type: 'put' as const, key: k, value: v });
          } else {
            model.delete(hex(k));
            ops.push({ type: 'del' as const, key: k });
          }
        }
        issued += n - 1;
        pending.push(db.batch(ops));
      }
    }
    await Promise.all(pending);
    for (let i = 0; i < 20; i++) {
      const k = pickKey();
      const want = model.get(hex(k));
      const got = db.get(k);
      expect(got === undefined ? undefined : hex(got), ctx('get')).toBe(want === undefined ? undefined : hex(want));
    }
    for (let i = 0; i < 3; i++) {
      const opts: RangeOptions = {};
      if (rand() < 0.4) opts.gte = pickKey();
      else if (rand() < 0.3) opts.gt = pickKey();
      if (rand() < 0.4) opts.lt = pickKey();
      else if (rand() < 0.3) opts.lte = pickKey();
      if (rand() < 0.25) opts.prefix = prefixes[int(prefixes.length)]!;
      if (rand() < 0.5) opts.reverse = true;
      if (rand() < 0.5) opts.limit = int(100);
      expectRange(opts);
    }
    expect(db.stats().keys, ctx('key count')).toBe(model.size);
    if (cfg.reclaim === true && rand() < 0.3) {
      // Rewrite every old leaf and free the segments below: the model must not notice.
      await db.reclaim();
      expectRange({});
    }
    if (rand() < 0.08) {
      const report = db.check();
      expect(report.problems, ctx('check')).toEqual([]);
      await db.close();
      db = open(dir, cfg.opts);
      expect(db.stats().keys, ctx('key count after reopen')).toBe(model.size);
    }
  }
  expectRange({});
  expectRange({ reverse: true });
  const report = db.check();
  expect(report.problems, ctx('final check')).toEqual([]);
  expect(report.keys).toBe(model.size);
  expect(report.height, ctx('height')).toBeGreaterThanOrEqual(cfg.minHeight ?? 1);
  if (cfg.reclaim === true) expect(db.stats().segmentsFreed, ctx('cleaning freed segments')).toBeGreaterThan(0);
  await db.close();
}

const seed = Number(process.env.BIRCH_SEED ?? 0) || 0x5eed;

describe('model-based test', () => {
  const configs: Config[] = [
    { name: 'block 4096', seed, ops: 100_000, opts: { blockSize: 4096 } },
    { name: 'block 2048, tiny cache', seed: seed + 1, ops: 30_000, opts: { blockSize: 2048, cacheSize: 64 * 1024 } },
    { name: 'block 2048, 20k keys', seed: seed + 4, ops: 60_000, opts: { blockSize: 2048, sync: false }, poolSize: 20_000, minHeight: 3 },
    { name: 'block 2048, reclaim between bursts, small segments', seed: seed + 5, ops: 20_000, opts: { blockSize: 2048, segmentSize: 32 * 2048, sync: false }, reclaim: true },
    { name: 'block 16384', seed: seed + 2, ops: 30_000, opts: { blockSize: 16384 } },
    { name: 'block 4096, tiny cache, small segments, no sync', seed: seed + 3, ops: 30_000, opts: { cacheSize: 32 * 1024, segmentSize: 256 * 1024, sync: false } },
  ];
  for (const cfg of configs) {
    it(`${cfg.name} (${cfg.ops} ops, seed ${cfg.seed})`, () => runModel(cfg), 240_000);
  }
});
