/**
 * Expiring keys, counters and append over the Redis protocol, against the
 * real store: SET EX/PX/EXAT/PXAT/NX/XX/KEEPTTL/GET, SETEX, PSETEX, GETSET,
 * GETDEL, GETEX, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT, TTL,
 * PTTL, EXPIRETIME, PEXPIRETIME, PERSIST, INCR/DECR/INCRBY/DECRBY, APPEND,
 * MSET/MSETNX and MULTI/EXEC, each with Redis's replies and error texts:
 * INCR and APPEND keep a key's lifetime, SET (and GETSET, MSET) clear it
 * unless KEEPTTL, a deadline not in the future deletes the key, TTL answers
 * -1 without expiry and -2 for a missing key, in seconds rounded as Redis
 * rounds them.
 *
 * Keys that must expire get lifetimes of 50 to 200 ms and the test polls
 * until they are gone (up to seconds, on a loaded machine); keys that must
 * not expire get lifetimes of minutes, so no assertion depends on timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawClient, RespValue } from '../helpers/resp.js';
import { startServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let c: RawClient;
beforeAll(async () => {
  t = await startServer();
  c = await t.client();
});
afterAll(async () => {
  await t.stop();
});

let n = 0;
const key = (): string => `d${++n}`;
const err = (e: string): { error: string } => ({ error: e });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const NOT_INTEGER = err('ERR value is not an integer or out of range');
const OVERFLOW = err('ERR increment or decrement would overflow');
const SYNTAX = err('ERR syntax error');
const I64_MAX = '9223372036854775807';
const I64_MIN = '-9223372036854775808';

/** Poll `probe` until it returns `want` (compared as JSON), for up to `ms`; returns the last reply. */
async function until(probe: () => Promise<RespValue>, want: RespValue, ms = 5000): Promise<RespValue> {
  const end = Date.now() + ms;
  let got = await probe();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end) {
    await sleep(20);
    got = await probe();
  }
  return got;
}

/** Wait until `k` has expired (GET answers nil). */
async function gone(k: string): Promise<void> {
  expect(await until(() => c.call('GET', k), null)).toBe(null);
}

describe('SET and its expiry options', () => {
  it('EX, PX, EXAT, PXAT set a lifetime; TTL and PTTL report it; a plain SET clears it', async () => {
    const k = key();
    expect(await c.call('TTL', k)).toBe(-2);
    expect(await c.call('PTTL', k)).toBe(-2);
    expect(await c.call('SET', k, 'v')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('PTTL', k)).toBe(-1);
    expect(await c.call('SET', k, 'v', 'EX', '100')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(100); // 99.5 s or more left rounds to 100
    const pttl = (await c.call('PTTL', k)) as number;
    expect(pttl).toBeGreaterThan(90_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    expect(await c.call('SET', k, 'v', 'px', '200000')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(200);
    const at = Math.floor(Date.now() / 1000) + 300;
    expect(await c.call('SET', k, 'v', 'EXAT', String(at))).toBe('+OK');
    expect(await c.call('EXPIRETIME', k)).toBe(at);
    expect(await c.call('SET', k, 'v', 'PXAT', String(at * 1000 + 7))).toBe('+OK');
    // The store takes a lifetime in ms from now: the deadline may move by the ms in between.
    const pat = (await c.call('PEXPIRETIME', k)) as number;
    expect(pat).toBeGreaterThanOrEqual(at * 1000 + 7);
    expect(pat).toBeLessThan(at * 1000 + 7 + 1000);
    expect(await c.call('SET', k, 'x')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('EXPIRETIME', k)).toBe(-1);
    expect(await c.call('EXPIRETIME', key())).toBe(-2);
    expect(await c.call('PEXPIRETIME', key())).toBe(-2);
  });

  it('TTL rounds the seconds left as Redis does; PTTL gives milliseconds', async () => {
    const k = key();
    // 10.9 s left rounds up to 11, 10.1 s down to 10 (until 0.4 s, resp. 0.6 s, have passed).
    await c.call('SET', k, 'v', 'PX', '10900');
    expect(await c.call('TTL', k)).toBe(11);
    await c.call('SET', k, 'v', 'PX', '10100');
    expect(await c.call('TTL', k)).toBe(10);
    await c.call('PEXPIRE', k, '1400');
    expect(await c.call('TTL', k)).toBe(1);
    const p = (await c.call('PTTL', k)) as number;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThanOrEqual(1400);
  });

  it('NX and XX with an expiry; GET with an expiry; the lifetime follows what was written', async () => {
    const k = key();
    expect(await c.call('SET', k, 'a', 'XX', 'EX', '100')).toBe(null);
    expect(await c.call('EXISTS', k)).toBe(0);
    expect(await c.call('SET', k, 'a', 'NX', 'EX', '100')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(100);
    // NX on a present key changes nothing, lifetime included.
    expect(await c.call('SET', k, 'b', 'NX', 'EX', '500')).toBe(null);
    expect(await c.call('GET', k)).toBe('a');
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('SET', k, 'c', 'XX', 'PX', '300000')).toBe('+OK');
    expect(await c.call('GET', k)).toBe('c');
    expect(await c.call('TTL', k)).toBe(300);
    // XX without an expiry is a SET: it clears the lifetime.
    expect(await c.call('SET', k, 'd', 'XX')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('SET', k, 'e', 'GET', 'EX', '50')).toBe('d');
    expect(await c.call('TTL', k)).toBe(50);
    expect(await c.call('SET', k, 'f', 'NX', 'GET', 'EX', '70')).toBe('e');
    expect(await c.call('GET', k)).toBe('e');
    expect(await c.call('SET', k, 'f', 'XX', 'GET')).toBe('e');
    expect(await c.call('TTL', k)).toBe(-1);
  });

  it('KEEPTTL keeps the lifetime, also with NX/XX/GET, and gives none to a new key', async () => {
    const k = key();
    expect(await c.call('SET', k, 'a', 'KEEPTTL')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('SET', k, 'b', 'EX', '100')).toBe('+OK');
    expect(await c.call('SET', k, 'c', 'KEEPTTL')).toBe('+OK');
    expect(await c.call('GET', k)).toBe('c');
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('SET', k, 'd', 'XX', 'GET', 'KEEPTTL')).toBe('c');
    expect(await c.call('GET', k)).toBe('d');
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('SET', k, 'e', 'NX', 'KEEPTTL')).toBe(null);
    expect(await c.call('SET', k, 'f')).toBe('+OK');
    expect(await c.call('TTL', k)).toBe(-1);
    // A short lifetime kept by KEEPTTL still ends.
    await c.call('SET', k, 'g', 'PX', '100');
    expect(await c.call('SET', k, 'h', 'KEEPTTL')).toBe('+OK');
    await gone(k);
    expect(await c.call('TTL', k)).toBe(-2);
  });

  it('a deadline already past: SET answers as usual and the key is gone', async () => {
    const k = key();
    await c.call('SET', k, 'old');
    expect(await c.call('SET', k, 'new', 'PXAT', '1')).toBe('+OK');
    expect(await c.call('GET', k)).toBe(null);
    expect(await c.call('SET', k, 'new', 'EXAT', '1', 'NX')).toBe('+OK');
    expect(await c.call('EXISTS', k)).toBe(0);
    expect(await c.call('SET', k, 'new', 'EXAT', '1', 'XX')).toBe(null);
    await c.call('SET', k, 'old');
    expect(await c.call('SET', k, 'new', 'PXAT', '1', 'XX')).toBe('+OK');
    expect(await c.call('EXISTS', k)).toBe(0);
    await c.call('SET', k, 'old');
    expect(await c.call('SET', k, 'new', 'PXAT', '1', 'GET')).toBe('old');
    expect(await c.call('EXISTS', k)).toBe(0);
  });

  it("option and argument errors, in Redis's words, write nothing", async () => {
    const k = key();
    const bad = (e: string): { error: string } => err(`ERR invalid expire time in '${e}' command`);
    expect(await c.call('SET', k, 'v', 'EX', '0')).toEqual(bad('set'));
    expect(await c.call('SET', k, 'v', 'PX', '-5')).toEqual(bad('set'));
    expect(await c.call('SET', k, 'v', 'EXAT', '0')).toEqual(bad('set'));
    expect(await c.call('SET', k, 'v', 'EX', I64_MAX)).toEqual(bad('set'));
    expect(await c.call('SET', k, 'v', 'EX', 'ten')).toEqual(NOT_INTEGER);
    expect(await c.call('SET', k, 'v', 'EX', '1.5')).toEqual(NOT_INTEGER);
    expect(await c.call('SET', k, 'v', 'EX', '10', 'PX', '10')).toEqual(SYNTAX);
    expect(await c.call('SET', k, 'v', 'EX', '10', 'KEEPTTL')).toEqual(SYNTAX);
    expect(await c.call('SET', k, 'v', 'KEEPTTL', 'PXAT', '10')).toEqual(SYNTAX);
    expect(await c.call('SET', k, 'v', 'NX', 'XX')).toEqual(SYNTAX);
    expect(await c.call('SET', k, 'v', 'EX')).toEqual(SYNTAX);
    expect(await c.call('SET', k, 'v', 'PERSIST')).toEqual(SYNTAX);
    expect(await c.call('SETEX', k, '0', 'v')).toEqual(bad('setex'));
    expect(await c.call('PSETEX', k, '-1', 'v')).toEqual(bad('psetex'));
    expect(await c.call('SETEX', k, 'x', 'v')).toEqual(NOT_INTEGER);
    expect(await c.call('SETEX', k, '10')).toEqual(err("ERR wrong number of arguments for 'setex' command"));
    expect(await c.call('EXISTS', k)).toBe(0);
  });
});

describe('SETEX, PSETEX, GETSET, GETDEL, GETEX', () => {
  it('SETEX and PSETEX set a value with a lifetime, replacing an older one', async () => {
    const k = key();
    expect(await c.call('SETEX', k, '100', 'a')).toBe('+OK');
    expect(await c.call('GET', k)).toBe('a');
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('PSETEX', k, '250000', 'b')).toBe('+OK');
    expect(await c.call('GET', k)).toBe('b');
    expect(await c.call('TTL', k)).toBe(250);
    expect(await c.call('PSETEX', k, '100', 'c')).toBe('+OK');
    await gone(k);
  });

  it('GETSET returns the old value and clears the lifetime; GETDEL returns it and deletes', async () => {
    const k = key();
    expect(await c.call('GETSET', k, 'a')).toBe(null);
    await c.call('EXPIRE', k, '100');
    expect(await c.call('GETSET', k, 'b')).toBe('a');
    expect(await c.call('TTL', k)).toBe(-1);
    await c.call('EXPIRE', k, '100');
    expect(await c.call('GETDEL', k)).toBe('b');
    expect(await c.call('TTL', k)).toBe(-2);
    expect(await c.call('GETDEL', k)).toBe(null);
  });

  it('GETEX sets or removes the lifetime and returns the value', async () => {
    const k = key();
    expect(await c.call('GETEX', k, 'EX', '10')).toBe(null);
    expect(await c.call('EXISTS', k)).toBe(0);
    await c.call('SET', k, 'v');
    expect(await c.call('GETEX', k)).toBe('v');
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('GETEX', k, 'EX', '100')).toBe('v');
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('GETEX', k, 'PX', '200000')).toBe('v');
    expect(await c.call('TTL', k)).toBe(200);
    const at = Math.floor(Date.now() / 1000) + 400;
    expect(await c.call('GETEX', k, 'EXAT', String(at))).toBe('v');
    expect(await c.call('EXPIRETIME', k)).toBe(at);
    expect(await c.call('GETEX', k, 'PERSIST')).toBe('v');
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('GETEX', k, 'PERSIST', 'EX', '10')).toEqual(SYNTAX);
    expect(await c.call('GETEX', k, 'PXAT', '1')).toBe('v');
    expect(await c.call('EXISTS', k)).toBe(0);
  });
});

describe('EXPIRE and friends, TTL, PERSIST', () => {
  it('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT on present, missing and lifetime-less keys', async () => {
    const k = key();
    expect(await c.call('EXPIRE', k, '100')).toBe(0);
    expect(await c.call('PEXPIRE', k, '100')).toBe(0);
    expect(await c.call('EXPIREAT', k, String(Math.floor(Date.now() / 1000) + 100))).toBe(0);
    expect(await c.call('EXISTS', k)).toBe(0);
    await c.call('SET', k, 'v');
    expect(await c.call('EXPIRE', k, '100')).toBe(1);
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('PEXPIRE', k, '300000')).toBe(1);
    expect(await c.call('TTL', k)).toBe(300);
    const at = Math.floor(Date.now() / 1000) + 1000;
    expect(await c.call('EXPIREAT', k, String(at))).toBe(1);
    expect(await c.call('EXPIRETIME', k)).toBe(at);
    expect(await c.call('PEXPIREAT', k, String(at * 1000 + 5))).toBe(1);
    const pat = (await c.call('PEXPIRETIME', k)) as number;
    expect(pat).toBeGreaterThanOrEqual(at * 1000 + 5);
    expect(pat).toBeLessThan(at * 1000 + 1005);
    expect(await c.call('GET', k)).toBe('v'); // the value is untouched
  });

  it('NX, XX, GT, LT, as Redis 7 (no lifetime counts as infinite)', async () => {
    const k = key();
    await c.call('SET', k, 'v');
    expect(await c.call('EXPIRE', k, '100', 'XX')).toBe(0);
    expect(await c.call('EXPIRE', k, '100', 'GT')).toBe(0);
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('EXPIRE', k, '100', 'NX')).toBe(1);
    expect(await c.call('EXPIRE', k, '200', 'NX')).toBe(0);
    expect(await c.call('EXPIRE', k, '200', 'XX')).toBe(1);
    expect(await c.call('TTL', k)).toBe(200);
    expect(await c.call('EXPIRE', k, '50', 'GT')).toBe(0);
    expect(await c.call('EXPIRE', k, '300', 'gt')).toBe(1);
    expect(await c.call('EXPIRE', k, '400', 'LT')).toBe(0);
    expect(await c.call('PEXPIRE', k, '250000', 'LT')).toBe(1);
    expect(await c.call('TTL', k)).toBe(250);
    expect(await c.call('PEXPIREAT', k, String(Date.now() + 400_000), 'XX', 'GT')).toBe(1);
    expect(await c.call('TTL', k)).toBe(400);
    await c.call('PERSIST', k);
    expect(await c.call('EXPIRE', k, '100', 'LT')).toBe(1); // shorter than infinite
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('EXPIRE', key(), '100', 'NX')).toBe(0);
  });

  it('a deadline not in the future deletes the key and answers 1', async () => {
    const k = key();
    await c.call('SET', k, 'v');
    expect(await c.call('EXPIRE', k, '0')).toBe(1);
    expect(await c.call('GET', k)).toBe(null);
    expect(await c.call('EXPIRE', k, '0')).toBe(0);
    await c.call('SET', k, 'v');
    expect(await c.call('PEXPIRE', k, '-5')).toBe(1);
    expect(await c.call('EXISTS', k)).toBe(0);
    await c.call('SET', k, 'v', 'EX', '100');
    expect(await c.call('EXPIREAT', k, '1')).toBe(1);
    expect(await c.call('TTL', k)).toBe(-2);
    await c.call('SET', k, 'v');
    expect(await c.call('PEXPIREAT', k, String(Date.now() - 1000), 'NX')).toBe(1);
    expect(await c.call('EXISTS', k)).toBe(0);
  });

  it("argument errors in Redis's words", async () => {
    const k = key();
    await c.call('SET', k, 'v');
    expect(await c.call('EXPIRE', k, '10', 'NX', 'XX')).toEqual(err('ERR NX and XX, GT or LT options at the same time are not compatible'));
    expect(await c.call('EXPIRE', k, '10', 'GT', 'LT')).toEqual(err('ERR GT and LT options at the same time are not compatible'));
    expect(await c.call('EXPIRE', k, '10', 'FOO')).toEqual(err('ERR Unsupported option FOO'));
    expect(await c.call('EXPIRE', k, 'x')).toEqual(NOT_INTEGER);
    expect(await c.call('PEXPIRE', k, '1e3')).toEqual(NOT_INTEGER);
    expect(await c.call('EXPIRE', k, I64_MAX)).toEqual(err("ERR invalid expire time in 'expire' command"));
    expect(await c.call('PEXPIRE', k, I64_MAX)).toEqual(err("ERR invalid expire time in 'pexpire' command"));
    expect(await c.call('TTL')).toEqual(err("ERR wrong number of arguments for 'ttl' command"));
    expect(await c.call('TTL', k)).toBe(-1);
  });

  it('PERSIST removes a lifetime: 1 if there was one, 0 otherwise', async () => {
    const k = key();
    expect(await c.call('PERSIST', k)).toBe(0);
    await c.call('SET', k, 'v');
    expect(await c.call('PERSIST', k)).toBe(0);
    await c.call('EXPIRE', k, '100');
    expect(await c.call('PERSIST', k)).toBe(1);
    expect(await c.call('PERSIST', k)).toBe(0);
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('GET', k)).toBe('v');
    // A persisted key outlives the lifetime it had.
    await c.call('PEXPIRE', k, '100');
    expect(await c.call('PERSIST', k)).toBe(1);
    await sleep(200);
    expect(await c.call('GET', k)).toBe('v');
  });
});

describe('expiry becomes visible everywhere', () => {
  it('GET, MGET, EXISTS, TYPE, STRLEN, KEYS, SCAN, BIRCH.RANGE, TTL stop seeing an expired key', async () => {
    const p = `${key()}:`;
    await c.call('SET', `${p}a`, 'v', 'PX', '100');
    await c.call('SETEX', `${p}b`, '100', 'kept');
    await c.call('PSETEX', `${p}c`, '150', 'v');
    await c.call('SET', `${p}d`, 'v');
    await c.call('PEXPIRE', `${p}d`, '200');
    expect(await c.call('KEYS', `${p}*`)).toEqual([`${p}a`, `${p}b`, `${p}c`, `${p}d`]);
    await gone(`${p}a`);
    await gone(`${p}c`);
    await gone(`${p}d`);
    expect(await c.call('MGET', `${p}a`, `${p}b`, `${p}c`)).toEqual([null, 'kept', null]);
    expect(await c.call('EXISTS', `${p}a`, `${p}b`, `${p}c`, `${p}d`)).toBe(1);
    expect(await c.call('TYPE', `${p}a`)).toBe('+none');
    expect(await c.call('STRLEN', `${p}a`)).toBe(0);
    expect(await c.call('KEYS', `${p}*`)).toEqual([`${p}b`]);
    expect(await c.call('SCAN', '0', 'MATCH', `${p}*`, 'COUNT', '1000')).toEqual(['0', [`${p}b`]]);
    expect(await c.call('BIRCH.RANGE', `[${p}`, `[${p}z`)).toEqual([`${p}b`, 'kept']);
    expect(await c.call('TTL', `${p}a`)).toBe(-2);
    expect(await c.call('PTTL', `${p}d`)).toBe(-2);
  });

  it('an expired key is absent to writes: SET NX/XX, SETNX, MSETNX, GETSET, EXPIRE, PERSIST, INCR, APPEND', async () => {
    const ks = Array.from({ length: 9 }, () => key());
    for (const k of ks) await c.call('SET', k, '5', 'PX', '50');
    for (const k of ks) await gone(k);
    const [a, b, d, e, f, g, h, i, j] = ks as [string, string, string, string, string, string, string, string, string];
    expect(await c.call('SET', a, 'x', 'XX')).toBe(null);
    expect(await c.call('SET', a, 'x', 'NX')).toBe('+OK');
    expect(await c.call('SETNX', b, 'x')).toBe(1);
    expect(await c.call('MSETNX', d, 'x', `${d}'`, 'y')).toBe(1);
    expect(await c.call('GETSET', e, 'x')).toBe(null);
    expect(await c.call('EXPIRE', f, '100')).toBe(0);
    expect(await c.call('PERSIST', g)).toBe(0);
    expect(await c.call('EXISTS', f, g)).toBe(0);
    // INCR and APPEND start afresh, with no lifetime.
    expect(await c.call('INCR', h)).toBe(1);
    expect(await c.call('TTL', h)).toBe(-1);
    expect(await c.call('APPEND', i, 'ab')).toBe(2);
    expect(await c.call('GET', i)).toBe('ab');
    expect(await c.call('TTL', i)).toBe(-1);
    expect(await c.call('GETDEL', j)).toBe(null);
    expect(await c.call('MGET', a, b, d, e)).toEqual(['x', 'x', 'x', 'x']);
  });
});

describe('counters', () => {
  it('INCR, DECR, INCRBY, DECRBY', async () => {
    const k = key();
    expect(await c.call('INCR', k)).toBe(1);
    expect(await c.call('INCRBY', k, '41')).toBe(42);
    expect(await c.call('DECR', k)).toBe(41);
    expect(await c.call('DECRBY', k, '50')).toBe(-9);
    expect(await c.call('INCRBY', k, '-1')).toBe(-10);
    expect(await c.call('DECRBY', k, '-10')).toBe(0);
    expect(await c.call('GET', k)).toBe('0');
    await c.call('SET', k, '-7');
    expect(await c.call('INCR', k)).toBe(-6);
    // Beyond 2^53, exactly.
    expect(await c.call('INCRBY', k, '9007199254740999')).toBe(9007199254740993n);
    expect(await c.call('GET', k)).toBe('9007199254740993');
    expect(await c.call('DECRBY', key(), I64_MAX)).toBe(-9223372036854775807n);
  });

  it("Redis's errors: not an integer, overflow both ways; nothing changes, lifetime included", async () => {
    const k = key();
    for (const v of ['abc', '', ' 1', '1 ', '+1', '007', '-0', '1.5', '0x10', '9223372036854775808']) {
      await c.call('SET', k, v, 'EX', '100');
      expect(await c.call('INCR', k), JSON.stringify(v)).toEqual(NOT_INTEGER);
      expect(await c.call('DECRBY', k, '3'), JSON.stringify(v)).toEqual(NOT_INTEGER);
      expect(await c.call('GET', k)).toBe(v);
      expect(await c.call('TTL', k)).toBe(100);
    }
    await c.call('SET', k, I64_MAX, 'EX', '100');
    expect(await c.call('INCR', k)).toEqual(OVERFLOW);
    expect(await c.call('INCRBY', k, '5')).toEqual(OVERFLOW);
    expect(await c.call('DECRBY', k, '-1')).toEqual(OVERFLOW);
    expect(await c.call('GET', k)).toBe(I64_MAX);
    expect(await c.call('TTL', k)).toBe(100);
    expect(await c.call('DECR', k)).toBe(9223372036854775806n);
    await c.call('SET', k, I64_MIN);
    expect(await c.call('DECR', k)).toEqual(OVERFLOW);
    expect(await c.call('INCRBY', k, I64_MIN)).toEqual(OVERFLOW);
    expect(await c.call('INCR', k)).toBe(-9223372036854775807n);
    // The increment itself.
    expect(await c.call('INCRBY', k, '1.5')).toEqual(NOT_INTEGER);
    expect(await c.call('INCRBY', k, '9223372036854775808')).toEqual(NOT_INTEGER);
    expect(await c.call('INCRBY', k, 'x')).toEqual(NOT_INTEGER);
    expect(await c.call('DECRBY', k, I64_MIN)).toEqual(err('ERR decrement would overflow'));
    expect(await c.call('INCR', k, '1')).toEqual(err("ERR wrong number of arguments for 'incr' command"));
    expect(await c.call('GET', k)).toBe('-9223372036854775807');
  });

  it('INCR keeps the lifetime, and a counter with a short one expires', async () => {
    const k = key();
    await c.call('SET', k, '10', 'EX', '100');
    expect(await c.call('INCR', k)).toBe(11);
    expect(await c.call('DECRBY', k, '2')).toBe(9);
    expect(await c.call('TTL', k)).toBe(100);
    await c.call('PEXPIRE', k, '100');
    expect(await c.call('INCR', k)).toBe(10);
    await gone(k);
    expect(await c.call('INCR', k)).toBe(1);
    expect(await c.call('TTL', k)).toBe(-1);
  });

  it("many clients' pipelined INCRs lose no increment", async () => {
    const k = key();
    const clients = await Promise.all(Array.from({ length: 10 }, () => t.client()));
    await Promise.all(
      clients.map(async (x) => {
        for (let i = 0; i < 50; i++) x.send(i % 2 === 0 ? 'INCR' : 'INCRBY', k, ...(i % 2 === 0 ? [] : ['2']));
        for (let i = 0; i < 50; i++) expect(typeof (await x.read())).toBe('number');
      }),
    );
    expect(await c.call('GET', k)).toBe('750');
    for (const x of clients) x.close();
  });
});

describe('APPEND', () => {
  it('returns the new length, creates a missing key, stops at 255 bytes with nothing changed', async () => {
    const k = key();
    expect(await c.call('APPEND', k, 'ab')).toBe(2);
    expect(await c.call('TTL', k)).toBe(-1);
    expect(await c.call('APPEND', k, 'cd')).toBe(4);
    expect(await c.call('APPEND', k, '')).toBe(4);
    expect(await c.call('GET', k)).toBe('abcd');
    expect(await c.call('APPEND', k, 'x'.repeat(252))).toEqual(err("ERR appending 252 bytes would make the value longer than birch's limit of 255 bytes"));
    expect(await c.call('APPEND', k, 'x'.repeat(256))).toEqual(err("ERR value is 256 bytes, over birch's limit of 255 bytes"));
    expect(await c.call('GET', k)).toBe('abcd');
    expect(await c.call('APPEND', k, 'x'.repeat(251))).toBe(255);
    expect(await c.call('APPEND', k, 'y')).toEqual(err("ERR appending 1 byte would make the value longer than birch's limit of 255 bytes"));
    expect(await c.call('STRLEN', k)).toBe(255);
    // Binary bytes append as they are.
    const b = key();
    await c.call('SET', b, Buffer.from([0, 255]));
    expect(await c.call('APPEND', b, Buffer.from([13, 10, 0]))).toBe(5);
    expect(await c.call('GET', b)).toBe(Buffer.from([0, 255, 13, 10, 0]).toString('latin1'));
  });

  it('keeps the lifetime; a short one still ends', async () => {
    const k = key();
    await c.call('SET', k, 'a', 'EX', '100');
    expect(await c.call('APPEND', k, 'b')).toBe(2);
    expect(await c.call('TTL', k)).toBe(100);
    await c.call('PEXPIRE', k, '100');
    expect(await c.call('APPEND', k, 'c')).toBe(3);
    await gone(k);
    expect(await c.call('APPEND', k, 'z')).toBe(1);
  });
});

describe('MSET, MSETNX and MULTI/EXEC with lifetimes', () => {
  it('MSET clears the lifetimes of the keys it writes; MSETNX writes none if one exists', async () => {
    const [a, b, d] = [key(), key(), key()];
    await c.call('SET', a, '1', 'EX', '100');
    await c.call('SET', b, '2', 'EX', '100');
    expect(await c.call('MSET', a, 'x', d, 'y')).toBe('+OK');
    expect(await c.call('TTL', a)).toBe(-1);
    expect(await c.call('TTL', b)).toBe(100);
    expect(await c.call('TTL', d)).toBe(-1);
    expect(await c.call('MSETNX', b, 'z', `${d}2`, 'z')).toBe(0);
    expect(await c.call('GET', b)).toBe('2');
    expect(await c.call('TTL', b)).toBe(100);
    expect(await c.call('EXISTS', `${d}2`)).toBe(0);
    await c.call('PEXPIRE', b, '50');
    await gone(b);
    expect(await c.call('MSETNX', b, 'z', `${d}2`, 'z')).toBe(1);
    expect(await c.call('MGET', b, `${d}2`)).toEqual(['z', 'z']);
    expect(await c.call('TTL', b)).toBe(-1);
  });

  it('inside MULTI: lifetimes set, read, kept and removed, as one batch', async () => {
    const [k, j, i] = [key(), key(), key()];
    await c.call('SET', j, '5', 'EX', '100');
    await c.call('MULTI');
    for (const cmd of [
      ['SET', k, 'w', 'EX', '100'],
      ['TTL', k],
      ['SET', k, 'x', 'KEEPTTL'],
      ['PTTL', k],
      ['INCR', j],
      ['TTL', j],
      ['APPEND', j, '0'],
      ['TTL', j],
      ['SETEX', i, '300', 'a'],
      ['EXPIRE', i, '200', 'LT'],
      ['TTL', i],
      ['PERSIST', k],
      ['TTL', k],
      ['GETSET', j, 'plain'],
      ['TTL', j],
      ['SET', i, 'gone', 'PXAT', '1', 'GET'],
      ['EXISTS', i],
      ['EXPIRE', k, '0'],
      ['GET', k],
    ]) {
      expect(await c.call(...cmd)).toBe('+QUEUED');
    }
    const r = (await c.call('EXEC')) as RespValue[];
    expect(r[0]).toBe('+OK');
    expect(r[1]).toBe(100);
    expect(r[2]).toBe('+OK');
    expect(r[3]).toBeGreaterThan(90_000);
    expect(r.slice(4)).toEqual([6, 100, 2, 100, '+OK', 1, 200, 1, -1, '60', -1, 'a', 0, 1, null]);
    expect(await c.call('MGET', k, j, i)).toEqual([null, 'plain', null]);
    expect(await c.call('TTL', j)).toBe(-1);
  });

  it("a command that fails in EXEC is an error element, Redis's text, and the rest applies", async () => {
    const [k, j] = [key(), key()];
    await c.call('SET', k, 'abc');
    await c.call('SET', j, I64_MAX, 'EX', '100');
    await c.call('MULTI');
    await c.call('INCR', k);
    await c.call('INCR', j);
    await c.call('APPEND', k, 'x'.repeat(253));
    await c.call('APPEND', k, 'd');
    await c.call('SET', `${k}n`, '1', 'EX', '100');
    expect(await c.call('EXEC')).toEqual([NOT_INTEGER, OVERFLOW, err("ERR appending 253 bytes would make the value longer than birch's limit of 255 bytes"), 4, '+OK']);
    expect(await c.call('MGET', k, j)).toEqual(['abcd', I64_MAX]);
    expect(await c.call('TTL', j)).toBe(100);
    expect(await c.call('TTL', `${k}n`)).toBe(100);
  });

  it('WATCH sees EXPIRE and PERSIST from another connection as writes, and a watched key expiring (as Redis 7)', async () => {
    const k = key();
    const other = await t.client();
    await c.call('SET', k, 'v');
    expect(await c.call('WATCH', k)).toBe('+OK');
    expect(await other.call('EXPIRE', k, '100')).toBe(1);
    await c.call('MULTI');
    await c.call('SET', k, 'mine');
    expect(await c.call('EXEC')).toBe(null);
    expect(await c.call('WATCH', k)).toBe('+OK');
    expect(await other.call('PERSIST', k)).toBe(1);
    await c.call('MULTI');
    await c.call('SET', k, 'mine');
    expect(await c.call('EXEC')).toBe(null);
    expect(await c.call('GET', k)).toBe('v');
    await c.call('PEXPIRE', k, '100');
    expect(await c.call('WATCH', k)).toBe('+OK');
    await gone(k);
    await c.call('MULTI');
    await c.call('SET', k, 'mine');
    expect(await c.call('EXEC')).toBe(null);
    expect(await c.call('EXISTS', k)).toBe(0);
    other.close();
  });
});
