/**
 * Helpers for the data-model tests (issue 13: tables, TTL, encodings,
 * counters): stores opened with encodings through the public open(), closed
 * after each test; typed error assertions for promises and synchronous
 * calls; polling for real-time expiry without tight timing.
 */
import { afterEach, expect } from 'vitest';
import {
  BirchError,
  open,
  type BirchErrorCode,
  type KeyEncoding,
  type KeyInput,
  type KeyOf,
  type OpenOptions,
  type Store,
  type ValueEncoding,
  type ValueInput,
  type ValueOf,
} from '../../src/index.js';

const opened: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  // Close whatever a (possibly failed) test left open, so its lock goes away
  // (runs before util.ts removes the directories: after-hooks run in reverse).
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
});

/** open() with `sync: false` and the given encodings; closed after the test if still open. */
export function openAs<KE extends KeyEncoding = 'binary', VE extends ValueEncoding = 'binary'>(
  dir: string,
  opts: OpenOptions & { keyEncoding?: KE; valueEncoding?: VE } = {},
): Store<KeyInput<KE>, KeyOf<KE>, ValueInput<VE>, ValueOf<VE>> {
  const db = open<KE, VE>(dir, { sync: false, ...opts });
  opened.push(db);
  return db;
}

/** The error `p` rejects with, checked to be a BirchError with `code` (and a message matching `message`). */
export async function rejects(p: Promise<unknown>, code: BirchErrorCode, message?: RegExp): Promise<BirchError> {
  let caught: unknown;
  let ok = false;
  try {
    await p;
    ok = true;
  } catch (err) {
    caught = err;
  }
  expect(ok, `expected a rejection with ${code}`).toBe(false);
  expect(caught).toBeInstanceOf(BirchError);
  const err = caught as BirchError;
  expect(err.code, err.message).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

/** `f()` rejects with `code` and does not throw synchronously. */
export async function rejectsCall(f: () => Promise<unknown>, code: BirchErrorCode, message?: RegExp): Promise<BirchError> {
  let p: Promise<unknown>;
  try {
    p = f();
  } catch (err) {
    throw new Error(`expected a rejection with ${code}, got a synchronous throw: ${String(err)}`);
  }
  return rejects(p, code, message);
}

/** `f()` throws (synchronously) a BirchError with `code`. */
export function throws(f: () => unknown, code: BirchErrorCode, message?: RegExp): BirchError {
  let caught: unknown;
  let threw = false;
  try {
    f();
  } catch (err) {
    threw = true;
    caught = err;
  }
  expect(threw, `expected a synchronous ${code}`).toBe(true);
  expect(caught).toBeInstanceOf(BirchError);
  const err = caught as BirchError;
  expect(err.code, err.message).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every few ms until it holds; fails after `timeout` ms. */
export async function eventually(cond: () => boolean, what: string, timeout = 5000): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    if (cond()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for: ${what}`);
    await sleep(5);
  }
}

/** Wait until the wall clock is past `t` (ms since the epoch) by at least `margin` ms. */
export async function until(t: number, margin = 2): Promise<void> {
  while (Date.now() < t + margin) await sleep(Math.max(1, t + margin - Date.now()));
}

export const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));
