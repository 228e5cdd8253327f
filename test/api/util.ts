/**
 * Tiny shared helpers for the API tests (test/api/*.test.ts): temp
 * directories and stores that are cleaned up after each test, error-code
 * assertions, and a plain reference implementation of range options.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect } from 'vitest';
import { BirchError, open, type BirchErrorCode, type OpenOptions, type RangeOptions, type Store } from '../../src/index.js';
import { Rng } from '../helpers/rng.js';

const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  // Close whatever a (possibly failed) test left open, so its lock goes away.
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh empty directory, removed after the test. */
export function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-api-'));
  dirs.push(d);
  return d;
}

/** A path inside a fresh temp directory that does not exist yet. */
export function freshPath(): string {
  return path.join(tmp(), 'store');
}

/**
 * Open a store (closed after the test if still open). `sync: false` unless
 * the options say otherwise: these tests are about semantics, not durability
 * against power loss, and a clean close() writes everything anyway.
 */
export function openStore(dir: string = tmp(), opts: OpenOptions = {}): Store {
  const db = open(dir, { sync: false, ...opts });
  stores.push(db);
  return db;
}

/** The store's own consistency check finds nothing. */
export function expectCheck(db: Store): void {
  const r = db.check();
  expect(r.problems).toEqual([]);
  expect(r.ok).toBe(true);
}

/** `fn` throws (synchronously) a BirchError with this code. */
export function expectThrowCode(fn: () => unknown, code: BirchErrorCode): void {
  let caught: unknown;
  let threw = false;
  try {
    fn();
  } catch (err) {
    threw = true;
    caught = err;
  }
  expect(threw, `expected a synchronous ${code}`).toBe(true);
  expect(caught).toBeInstanceOf(BirchError);
  expect((caught as BirchError).code).toBe(code);
}

/**
 * `fn` returns a promise (it must NOT throw synchronously) that rejects with a
 * BirchError with this code.
 */
export async function expectRejectCode(fn: () => Promise<unknown>, code: BirchErrorCode): Promise<void> {
  let p: Promise<unknown> | undefined;
  let syncErr: unknown;
  try {
    p = fn();
  } catch (err) {
    syncErr = err;
  }
  expect(syncErr, `expected a rejection, not a synchronous throw`).toBeUndefined();
  expect(p).toBeInstanceOf(Promise);
  let caught: unknown;
  let rejected = false;
  try {
    await p;
  } catch (err) {
    rejected = true;
    caught = err;
  }
  expect(rejected, `expected a rejection with ${code}`).toBe(true);
  expect(caught).toBeInstanceOf(BirchError);
  expect((caught as BirchError).code).toBe(code);
}

export const b = (s: string): Buffer => Buffer.from(s, 'utf8');
export const hex = (x: Uint8Array): string => Buffer.from(x).toString('hex');

/** Every pair of an iterable of pairs, as hex strings. */
export function pairsHex(it: Iterable<[Buffer, Buffer]>): [string, string][] {
  return [...it].map(([k, v]) => [hex(k), hex(v)]);
}

export function keysHex(it: Iterable<Buffer>): string[] {
  return [...it].map(hex);
}

/**
 * A plain reference for range options over a map of hex key -> hex value:
 * the pairs range(opts) must yield, as hex. Independent of birch's own
 * bound-tightening: filters every pair by every bound.
 */
export function refRange(model: Map<string, string>, opts: RangeOptions = {}): [string, string][] {
  const asBuf = (x: Uint8Array | string | undefined): Buffer | undefined =>
    x === undefined ? undefined : typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x);
  const gt = asBuf(opts.gt);
  const gte = asBuf(opts.gte);
  const lt = asBuf(opts.lt);
  const lte = asBuf(opts.lte);
  const prefix = asBuf(opts.prefix);
  let keys = [...model.keys()]
    .map((h) => Buffer.from(h, 'hex'))
    .filter(
      (k) =>
        (gt === undefined || Buffer.compare(k, gt) > 0) &&
        (gte === undefined || Buffer.compare(k, gte) >= 0) &&
        (lt === undefined || Buffer.compare(k, lt) < 0) &&
        (lte === undefined || Buffer.compare(k, lte) <= 0) &&
        (prefix === undefined || (k.length >= prefix.length && k.subarray(0, prefix.length).equals(prefix))),
    )
    .sort(Buffer.compare);
  if (opts.reverse === true) keys.reverse();
  if (opts.limit !== undefined) keys = keys.slice(0, opts.limit);
  return keys.map((k) => [hex(k), model.get(hex(k))!]);
}

/** Names, sizes and content hashes of everything in `dir` (recursively). */
export function dirState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.statSync(p);
      if (st.isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(p, r);
      } else {
        out[r] = `${st.size}:${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(dir, '');
  return out;
}

/** Wait one turn of the event loop. */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A deterministic PRNG as a function returning floats in [0, 1). */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
