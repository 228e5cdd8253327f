/**
 * The commands that need issue 13 ("The data model users expect"):
 * expiring keys (SET EX/PX/EXAT/PXAT/KEEPTTL, SETEX, PSETEX, EXPIRE,
 * PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, PERSIST, EXPIRETIME, GETEX),
 * counters (INCR, DECR, INCRBY, DECRBY) and APPEND, with Redis's semantics:
 * INCR and APPEND keep a key's lifetime, SET clears it unless KEEPTTL, a
 * deadline not in the future deletes the key, TTL answers -1 without
 * expiry and -2 for a missing key.
 *
 * The suite runs twice: against the real Store, where each test runs once
 * the Store has the calls (the server finds them at run time) and is
 * skipped until then (commands.test.ts checks the "not supported yet"
 * replies instead); and against a stand-in for those calls
 * (test/helpers/datamodel-shim.ts), so the server's side runs today.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/index.js';
import { withDataModel } from '../helpers/datamodel-shim.js';
import type { RawClient } from '../helpers/resp.js';
import { startServer, type TestServer } from '../helpers/server.js';

const proto = Store.prototype as unknown as Record<string, unknown>;
const modes = [
  {
    mode: 'the Store',
    EXPIRY: ['expire', 'persist', 'ttl'].every((m) => typeof proto[m] === 'function'),
    COUNTERS: typeof proto.incr === 'function',
    APPEND: typeof proto.append === 'function',
    wrap: (s: Store): Store => s,
  },
  { mode: 'a stand-in for issue 13', EXPIRY: true, COUNTERS: true, APPEND: true, wrap: withDataModel },
];

describe.each(modes)('$mode', ({ EXPIRY, COUNTERS, APPEND, wrap }) => {
  const why = (on: boolean, what: string): string => (on ? '' : ` (SKIPPED until the store has ${what}: issue 13)`);

  let t: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    t = await startServer({}, { cleaning: 0 }, wrap);
    c = await t.client();
  });
  afterAll(async () => {
    await t.stop();
  });

  let n = 0;
  const key = (): string => `d${++n}`;
  const err = (e: string): { error: string } => ({ error: e });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  describe('expiring keys', () => {
    it.skipIf(!EXPIRY)(`SET EX/PX/EXAT/PXAT, TTL and PTTL${why(EXPIRY, 'expiring keys')}`, async () => {
      const k = key();
      expect(await c.call('TTL', k)).toBe(-2);
      expect(await c.call('SET', k, 'v')).toBe('+OK');
      expect(await c.call('TTL', k)).toBe(-1);
      expect(await c.call('SET', k, 'v', 'EX', '100')).toBe('+OK');
      expect(await c.call('TTL', k)).toBeGreaterThanOrEqual(99);
      expect(await c.call('PTTL', k)).toBeGreaterThan(98_000);
      expect(await c.call('SET', k, 'v', 'PX', '100000')).toBe('+OK');
      expect(await c.call('TTL', k)).toBe(100);
      const at = Math.floor(Date.now() / 1000) + 200;
      expect(await c.call('SET', k, 'v', 'EXAT', String(at))).toBe('+OK');
      expect(await c.call('EXPIRETIME', k)).toBe(at);
      expect(await c.call('SET', k, 'v', 'PXAT', String(at * 1000))).toBe('+OK');
      // The store takes a lifetime in ms from now: the absolute deadline may move by the ms in between.
      expect((await c.call('PEXPIRETIME', k)) as number).toBeGreaterThanOrEqual(at * 1000);
      expect((await c.call('PEXPIRETIME', k)) as number).toBeLessThan(at * 1000 + 500);
      // A plain SET clears the lifetime; KEEPTTL keeps it.
      expect(await c.call('SET', k, 'w', 'KEEPTTL')).toBe('+OK');
      expect(await c.call('TTL', k)).toBeGreaterThan(150);
      expect(await c.call('SET', k, 'x')).toBe('+OK');
      expect(await c.call('TTL', k)).toBe(-1);
      // NX/XX with an expiry, and GET with one.
      expect(await c.call('SET', k, 'y', 'XX', 'EX', '50')).toBe('+OK');
      expect(await c.call('TTL', k)).toBeGreaterThan(45);
      expect(await c.call('SET', k, 'z', 'NX', 'EX', '10')).toBe(null);
      expect(await c.call('SET', k, 'z', 'GET', 'EX', '10')).toBe('y');
      expect(await c.call('TTL', k)).toBeLessThanOrEqual(10);
      // A deadline already past: set and gone at once.
      expect(await c.call('SET', k, 'gone', 'PXAT', '1')).toBe('+OK');
      expect(await c.call('GET', k)).toBe(null);
    });

    it.skipIf(!EXPIRY)(`keys expire in real time, everywhere${why(EXPIRY, 'expiring keys')}`, async () => {
      const k = key();
      await c.call('SET', k, 'v', 'PX', '100');
      await c.call('SETEX', `${k}b`, '100', 'v');
      await c.call('PSETEX', `${k}c`, '100', 'v');
      expect(await c.call('GET', k)).toBe('v');
      await sleep(250);
      expect(await c.call('GET', k)).toBe(null);
      expect(await c.call('EXISTS', k, `${k}c`)).toBe(0);
      expect(await c.call('KEYS', `${k}*`)).toEqual([`${k}b`]);
      expect(await c.call('BIRCH.RANGE', `[${k}`, `[${k}z`, 'NOVALUES')).toEqual([`${k}b`]);
      expect(await c.call('TTL', k)).toBe(-2);
    });

    it.skipIf(!EXPIRY)(`EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, with NX/XX/GT/LT; PERSIST${why(EXPIRY, 'expiring keys')}`, async () => {
      const k = key();
      expect(await c.call('EXPIRE', k, '100')).toBe(0);
      await c.call('SET', k, 'v');
      expect(await c.call('EXPIRE', k, '100', 'XX')).toBe(0);
      expect(await c.call('EXPIRE', k, '100', 'NX')).toBe(1);
      expect(await c.call('EXPIRE', k, '200', 'NX')).toBe(0);
      expect(await c.call('EXPIRE', k, '50', 'GT')).toBe(0);
      expect(await c.call('EXPIRE', k, '300', 'GT')).toBe(1);
      expect(await c.call('EXPIRE', k, '400', 'LT')).toBe(0);
      expect(await c.call('PEXPIRE', k, '5000', 'LT')).toBe(1);
      expect(await c.call('PTTL', k)).toBeLessThanOrEqual(5000);
      expect(await c.call('EXPIRE', k, '10', 'NX', 'XX')).toEqual(err('ERR NX and XX, GT or LT options at the same time are not compatible'));
      expect(await c.call('EXPIRE', k, '10', 'GT', 'LT')).toEqual(err('ERR GT and LT options at the same time are not compatible'));
      expect(await c.call('EXPIRE', k, '10', 'FOO')).toEqual(err('ERR Unsupported option FOO'));
      expect(await c.call('EXPIRE', k, 'x')).toEqual(err('ERR value is not an integer or out of range'));
      const at = Math.floor(Date.now() / 1000) + 1000;
      expect(await c.call('EXPIREAT', k, String(at))).toBe(1);
      expect(await c.call('EXPIRETIME', k)).toBe(at);
      expect(await c.call('PEXPIREAT', k, String(at * 1000 + 5))).toBe(1);
      expect((await c.call('PEXPIRETIME', k)) as number).toBeGreaterThanOrEqual(at * 1000 + 5);
      expect((await c.call('PEXPIRETIME', k)) as number).toBeLessThan(at * 1000 + 505);
      expect(await c.call('PERSIST', k)).toBe(1);
      expect(await c.call('PERSIST', k)).toBe(0);
      expect(await c.call('TTL', k)).toBe(-1);
      expect(await c.call('EXPIRETIME', k)).toBe(-1);
      // A non-positive EXPIRE deletes the key.
      expect(await c.call('EXPIRE', k, '0')).toBe(1);
      expect(await c.call('GET', k)).toBe(null);
      await c.call('SET', k, 'v');
      expect(await c.call('PEXPIRE', k, '-5')).toBe(1);
      expect(await c.call('EXISTS', k)).toBe(0);
    });

    it.skipIf(!EXPIRY)(`GETEX, and expiry inside MULTI${why(EXPIRY, 'expiring keys')}`, async () => {
      const k = key();
      await c.call('SET', k, 'v');
      expect(await c.call('GETEX', k, 'EX', '100')).toBe('v');
      expect(await c.call('TTL', k)).toBeGreaterThan(95);
      expect(await c.call('GETEX', k, 'PERSIST')).toBe('v');
      expect(await c.call('TTL', k)).toBe(-1);
      await c.call('MULTI');
      await c.call('SET', k, 'w', 'EX', '100');
      await c.call('TTL', k);
      await c.call('PERSIST', k);
      await c.call('TTL', k);
      await c.call('EXPIRE', k, '0');
      await c.call('GET', k);
      const r = (await c.call('EXEC')) as unknown[];
      expect(r[0]).toBe('+OK');
      expect(r[1]).toBeGreaterThan(95);
      expect(r.slice(2)).toEqual([1, -1, 1, null]);
    });
  });

  describe('counters', () => {
    it.skipIf(!COUNTERS)(`INCR, DECR, INCRBY, DECRBY, Redis's errors${why(COUNTERS, 'incr')}`, async () => {
      const k = key();
      expect(await c.call('INCR', k)).toBe(1);
      expect(await c.call('INCRBY', k, '41')).toBe(42);
      expect(await c.call('DECR', k)).toBe(41);
      expect(await c.call('DECRBY', k, '50')).toBe(-9);
      expect(await c.call('GET', k)).toBe('-9');
      await c.call('SET', k, 'abc');
      expect(await c.call('INCR', k)).toEqual(err('ERR value is not an integer or out of range'));
      expect(await c.call('GET', k)).toBe('abc');
      await c.call('SET', k, '9223372036854775807');
      expect(await c.call('INCR', k)).toEqual(err('ERR increment or decrement would overflow'));
      expect(await c.call('DECRBY', k, '-9223372036854775808')).toEqual(err('ERR decrement would overflow'));
      expect(await c.call('INCRBY', k, '1.5')).toEqual(err('ERR value is not an integer or out of range'));
    });

    it.skipIf(!COUNTERS)(`many clients' INCRs lose no increment; INCR keeps the lifetime${why(COUNTERS, 'incr')}`, async () => {
      const k = key();
      const clients = await Promise.all(Array.from({ length: 10 }, () => t.client()));
      await Promise.all(
        clients.map(async (x) => {
          for (let i = 0; i < 50; i++) x.send('INCR', k);
          for (let i = 0; i < 50; i++) expect(typeof (await x.read())).toBe('number');
        }),
      );
      expect(await c.call('GET', k)).toBe('500');
      if (EXPIRY) {
        await c.call('EXPIRE', k, '100');
        await c.call('INCR', k);
        expect(await c.call('TTL', k)).toBeGreaterThan(95);
      }
    });

    it.skipIf(!COUNTERS)(`INCR inside MULTI${why(COUNTERS, 'incr')}`, async () => {
      const k = key();
      await c.call('MULTI');
      await c.call('INCR', k);
      await c.call('INCRBY', k, '10');
      await c.call('GET', k);
      expect(await c.call('EXEC')).toEqual([1, 11, '11']);
    });
  });

  describe('append', () => {
    it.skipIf(!APPEND)(`APPEND returns the new length, stops at 255 bytes, keeps the lifetime${why(APPEND, 'append')}`, async () => {
      const k = key();
      expect(await c.call('APPEND', k, 'ab')).toBe(2);
      expect(await c.call('APPEND', k, 'cd')).toBe(4);
      expect(await c.call('GET', k)).toBe('abcd');
      expect(await c.call('APPEND', k, 'x'.repeat(252))).toEqual(err("ERR value is 256 bytes, over birch's limit of 255 bytes"));
      expect(await c.call('GET', k)).toBe('abcd');
      if (EXPIRY) {
        await c.call('EXPIRE', k, '100');
        expect(await c.call('APPEND', k, 'e')).toBe(5);
        expect(await c.call('TTL', k)).toBeGreaterThan(95);
      }
      await c.call('MULTI');
      await c.call('APPEND', k, 'f');
      await c.call('GET', k);
      expect(await c.call('EXEC')).toEqual([EXPIRY ? 6 : 5, EXPIRY ? 'abcdef' : 'abcdf']);
    });
  });
});
