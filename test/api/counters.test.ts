/**
 * incr and append through the public API (issue 13): counters stored as
 * decimal ASCII, absent counts as 0, results as numbers up to 2^53 and
 * bigints past it, every increment of many concurrent ones kept, values that
 * are not 64-bit signed integers and results that overflow refused with
 * BIRCH_NOT_AN_INTEGER leaving the value as it was; append returns the new
 * length and refuses to grow past 255 bytes; both keep the key's lifetime,
 * apply in issue order, and work the same in tables.
 */
import { describe, expect, it } from 'vitest';
import { BirchError } from '../../src/index.js';
import { openAs, rejects, rejectsCall, str } from './datamodel-util.js';
import { expectCheck, openStore, tmp } from './util.js';

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

describe('incr', () => {
  it('adds 1 by default, any integer given, from 0 for an absent key; stores decimal ASCII', async () => {
    const db = openStore();
    expect(await db.incr('n')).toBe(1);
    expect(await db.incr('n')).toBe(2);
    expect(await db.incr('n', 10)).toBe(12);
    expect(await db.incr('n', -20)).toBe(-8);
    expect(str(db.get('n'))).toBe('-8');
    expect(await db.incr('n', 0)).toBe(-8);
    expect(await db.incr('n', 8n)).toBe(0);
    expect(str(db.get('n'))).toBe('0');
    expect(await db.incr('fresh', -5)).toBe(-5);
    // A value put by hand is a counter if it is decimal digits.
    await db.put('manual', '41');
    expect(await db.incr('manual')).toBe(42);
    await db.put('neg', '-100');
    expect(await db.incr('neg', 1)).toBe(-99);
    await db.put('zero', '0');
    expect(await db.incr('zero')).toBe(1);
    expectCheck(db);
  });

  it('returns a number up to 2^53 - 1 and a bigint past it, both ways', async () => {
    const db = openStore();
    const safe = Number.MAX_SAFE_INTEGER;
    expect(await db.incr('n', safe - 1)).toBe(safe - 1);
    const atMax = await db.incr('n');
    expect(atMax).toBe(safe);
    expect(typeof atMax).toBe('number');
    const past = await db.incr('n');
    expect(past).toBe(2n ** 53n);
    expect(str(db.get('n'))).toBe('9007199254740992');
    expect(await db.incr('n', 2n ** 60n)).toBe(2n ** 53n + 2n ** 60n);
    expect(await db.incr('n', -(2n ** 60n) - 1n)).toBe(safe); // back to a number
    expect(await db.incr('m', -safe)).toBe(-safe);
    expect(await db.incr('m', -1)).toBe(-(2n ** 53n));
    expect(await db.incr('big', I64_MAX)).toBe(I64_MAX);
    expect(str(db.get('big'))).toBe('9223372036854775807');
    expect(await db.incr('small', I64_MIN)).toBe(I64_MIN);
    expect(str(db.get('small'))).toBe('-9223372036854775808');
  });

  it('1000 concurrent incr calls on one key lose nothing, in issue order', async () => {
    const db = openStore();
    const t = db.table('t');
    const ps: Promise<number | bigint>[] = [];
    const tps: Promise<number | bigint>[] = [];
    for (let i = 0; i < 1000; i++) {
      ps.push(db.incr('hits'));
      tps.push(t.incr('hits', 2));
    }
    const got = await Promise.all(ps);
    const tgot = await Promise.all(tps);
    // Each call sees the value after its own increment: 1, 2, ..., 1000, in the order issued.
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(tgot).toEqual(Array.from({ length: 1000 }, (_, i) => 2 * (i + 1)));
    expect(str(db.get('hits'))).toBe('1000');
    expect(str(t.get('hits'))).toBe('2000');
    expect(db.stats().commits).toBeLessThan(2000); // group commit: many per append
    expectCheck(db);
  });

  it('interleaves with puts, deletes and batches in issue order', async () => {
    const db = openStore();
    const results = await Promise.all([
      db.incr('k'), // 1
      db.put('k', '100'),
      db.incr('k'), // 101
      db.delete('k'),
      db.incr('k', 5), // 5
      db.batch([{ type: 'put', key: 'k', value: '-3' }]),
      db.incr('k'), // -2
      db.put('k', 'text'),
      db.incr('k').catch((e: BirchError) => e.code),
      db.append('k', '!'),
    ]);
    expect([results[0], results[2], results[4], results[6], results[8], results[9]]).toEqual([1, 101, 5, -2, 'BIRCH_NOT_AN_INTEGER', 5]);
    expect(str(db.get('k'))).toBe('text!');
  });

  it('refuses a value that is not a 64-bit signed decimal integer with BIRCH_NOT_AN_INTEGER, changing nothing', async () => {
    const db = openStore();
    const bad: Array<string | Buffer> = [
      '',
      'abc',
      '1.5',
      '1e3',
      ' 1',
      '1 ',
      '5\n',
      '+1',
      '01',
      '-',
      '--1',
      '0x10',
      '١٢', // Arabic-Indic digits
      '９', // fullwidth
      '9223372036854775808', // 2^63
      '-9223372036854775809',
      '99999999999999999999',
      Buffer.of(0xff),
      Buffer.of(0x31, 0x00),
    ];
    for (const [i, v] of bad.entries()) {
      const k = `k${i}`;
      await db.put(k, v, { ttl: 60_000 });
      const err = await rejectsCall(() => db.incr(k), 'BIRCH_NOT_AN_INTEGER');
      expect(err).toBeInstanceOf(BirchError);
      await rejectsCall(() => db.incr(k, -1n), 'BIRCH_NOT_AN_INTEGER');
      expect(Buffer.compare(db.get(k)!, Buffer.from(v)), `value ${JSON.stringify(String(v))} unchanged`).toBe(0);
      expect(db.ttl(k)!).toBeGreaterThan(0); // lifetime unchanged
      expect(db.ttl(k)!).toBeLessThanOrEqual(60_000);
    }
    // The store goes on: a failed incr in a group does not fail its neighbours.
    const [a, b, c] = await Promise.allSettled([db.incr('ok'), db.incr('k1'), db.incr('ok')]);
    expect(a).toEqual({ status: 'fulfilled', value: 1 });
    expect(b.status).toBe('rejected');
    expect(c).toEqual({ status: 'fulfilled', value: 2 });
    expectCheck(db);
  });

  it('refuses overflow past the 64-bit signed range, changing nothing', async () => {
    const db = openStore();
    await db.put('max', I64_MAX.toString());
    await db.put('min', I64_MIN.toString());
    await rejectsCall(() => db.incr('max'), 'BIRCH_NOT_AN_INTEGER');
    await rejectsCall(() => db.incr('max', I64_MAX), 'BIRCH_NOT_AN_INTEGER');
    await rejectsCall(() => db.incr('min', -1), 'BIRCH_NOT_AN_INTEGER');
    await rejectsCall(() => db.incr('min', I64_MIN), 'BIRCH_NOT_AN_INTEGER');
    expect(str(db.get('max'))).toBe('9223372036854775807');
    expect(str(db.get('min'))).toBe('-9223372036854775808');
    expect(await db.incr('max', -1)).toBe(I64_MAX - 1n);
    expect(await db.incr('min', 1)).toBe(I64_MIN + 1n);
    // A `by` outside the range overflows even from 0, and leaves an absent key absent.
    await rejectsCall(() => db.incr('absent', 2n ** 63n), 'BIRCH_NOT_AN_INTEGER');
    await rejectsCall(() => db.incr('absent', -(2n ** 64n)), 'BIRCH_NOT_AN_INTEGER');
    expect(db.get('absent')).toBeUndefined();
    expect(await db.incr('absent', I64_MIN)).toBe(I64_MIN);
  });

  it('refuses a `by` that is not an integer with BIRCH_BAD_ARGUMENT', async () => {
    const db = openStore();
    await db.put('n', '5');
    for (const by of [1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 60), '1', null, {}, true]) {
      await rejectsCall(() => db.incr('n', by as never), 'BIRCH_BAD_ARGUMENT');
    }
    expect(str(db.get('n'))).toBe('5');
    expect(db.get('absent')).toBeUndefined();
  });

  it('keeps the key\'s lifetime; a key without one stays without', async () => {
    const db = openStore();
    await db.put('timed', '1', { ttl: 60_000 });
    const before = db.ttl('timed')!;
    expect(await db.incr('timed', 5)).toBe(6);
    const after = db.ttl('timed')!;
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(before);
    await db.incr('plain');
    expect(db.ttl('plain')).toBe(Infinity);
  });

  it('in a table: separate from the store\'s counter of the same name, across reopen', async () => {
    const dir = tmp();
    let db = openStore(dir);
    const t = db.table('counters');
    expect(await t.incr('c', 7)).toBe(7);
    expect(await db.incr('c')).toBe(1);
    expect(await db.table('other').incr('c', -1)).toBe(-1);
    await t.put('bad', 'x');
    await rejectsCall(() => t.incr('bad'), 'BIRCH_NOT_AN_INTEGER');
    await db.close();
    db = openStore(dir);
    expect(await db.table('counters').incr('c')).toBe(8);
    expect(await db.incr('c')).toBe(2);
    expect(str(db.table('other').get('c'))).toBe('-1');
    expect(str(db.table('counters').get('bad'))).toBe('x');
  });

  it('with utf8 and json value encodings, the counter reads back as its digits / its number', async () => {
    const db = openAs(tmp(), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    expect(await db.incr('n', 41)).toBe(41);
    expect(db.get('n')).toBe('41');
    await db.put('m', '7');
    expect(await db.incr('m')).toBe(8);
    const j = db.table('j', { keyEncoding: 'tuple', valueEncoding: 'json' });
    await j.put(['n'], 10); // JSON of an integer is its digits: a counter
    expect(await j.incr(['n'], -3)).toBe(7);
    expect(j.get(['n'])).toBe(7);
    await j.put(['f'], 1.5);
    await rejectsCall(() => j.incr(['f']), 'BIRCH_NOT_AN_INTEGER');
    expect(j.get(['f'])).toBe(1.5);
  });

  it('with the msgpack value encoding, a counter never reads back as a wrong value: incr and append are refused', async () => {
    const db = openStore();
    const m = db.table('m', { valueEncoding: 'msgpack' });
    // The digits "5" are the byte 0x35, which msgpack would read as the positive fixint 53.
    await rejects(m.incr('c', 5), 'BIRCH_BAD_ARGUMENT');
    await rejects(m.append('c', 'x'), 'BIRCH_BAD_ARGUMENT');
    expect(m.get('c')).toBeUndefined();
    const j = db.table('j', { valueEncoding: 'json' });
    expect(await j.incr('c', 5)).toBe(5);
    expect(j.get('c')).toBe(5); // "5" is JSON for 5
    await rejects(j.append('c', '0'), 'BIRCH_BAD_ARGUMENT');
    expect(j.get('c')).toBe(5);
  });

});

describe('append', () => {
  it('appends bytes and returns the new length; absent is empty', async () => {
    const db = openStore();
    expect(await db.append('s', 'ab')).toBe(2);
    expect(await db.append('s', Buffer.of(0, 0xff))).toBe(4);
    expect(await db.append('s', new Uint8Array([0x63]))).toBe(5);
    expect(await db.append('s', '')).toBe(5);
    expect(await db.append('s', 'é')).toBe(7); // a string counts as its UTF-8
    expect(db.get('s')).toEqual(Buffer.concat([Buffer.from('ab'), Buffer.of(0, 0xff, 0x63), Buffer.from('é')]));
    await db.put('p', 'pre');
    expect(await db.append('p', 'fix')).toBe(6);
    expect(str(db.get('p'))).toBe('prefix');
    expectCheck(db);
  });

  it('up to 255 bytes; past that BIRCH_VALUE_TOO_LARGE and nothing changes', async () => {
    const db = openStore();
    await db.put('s', Buffer.alloc(250, 0x61), { ttl: 60_000 });
    expect(await db.append('s', 'bcdef')).toBe(255);
    const err = await rejectsCall(() => db.append('s', 'x'), 'BIRCH_VALUE_TOO_LARGE');
    expect(err.message).toMatch(/256/);
    expect(db.get('s')!.length).toBe(255);
    expect(str(db.get('s'))!.endsWith('bcdef')).toBe(true);
    expect(db.ttl('s')!).toBeGreaterThan(0);
    await rejectsCall(() => db.append('absent', Buffer.alloc(256)), 'BIRCH_VALUE_TOO_LARGE');
    expect(db.get('absent')).toBeUndefined();
    expect(await db.append('exact', Buffer.alloc(255))).toBe(255);
    await rejectsCall(() => db.append('exact', Buffer.alloc(1)), 'BIRCH_VALUE_TOO_LARGE');
    expect(db.get('exact')!.length).toBe(255);
    // A refused append in a group leaves its neighbours alone.
    await db.put('g', 'x'.repeat(254));
    const r = await Promise.allSettled([db.append('g', 'y'), db.append('g', 'z'), db.append('h', 'ok')]);
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(str(db.get('g'))).toBe('x'.repeat(254) + 'y');
  });

  it('refuses bytes that are not bytes with BIRCH_BAD_ARGUMENT', async () => {
    const db = openStore();
    for (const b of [42, null, undefined, {}, [1], 1n]) await rejectsCall(() => db.append('s', b as never), 'BIRCH_BAD_ARGUMENT');
    expect(db.get('s')).toBeUndefined();
  });

  it('applies concurrent appends in issue order', async () => {
    const db = openStore();
    const letters = 'abcdefghijklmnopqrstuvwxyz'.repeat(4);
    const lens = await Promise.all([...letters].map((c) => db.append('s', c)));
    expect(lens).toEqual(Array.from({ length: letters.length }, (_, i) => i + 1));
    expect(str(db.get('s'))).toBe(letters);
  });

  it('keeps the key\'s lifetime', async () => {
    const db = openStore();
    await db.put('timed', 'a', { ttl: 60_000 });
    expect(await db.append('timed', 'b')).toBe(2);
    expect(db.ttl('timed')!).toBeGreaterThan(0);
    expect(db.ttl('timed')!).toBeLessThanOrEqual(60_000);
    await db.append('plain', 'x');
    expect(db.ttl('plain')).toBe(Infinity);
  });

  it('in tables, whatever their value encoding, on raw bytes', async () => {
    const db = openStore();
    const t = db.table('t');
    const u = db.table('u', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    expect(await t.append('k', 'x')).toBe(1);
    expect(await u.append('k', 'héllo')).toBe(6);
    expect(await u.append('k', Buffer.from(' wörld'))).toBe(13);
    expect(u.get('k')).toBe('héllo wörld');
    expect(str(t.get('k'))).toBe('x');
    expect(db.get('k')).toBeUndefined();
    expect(await t.append(Buffer.alloc(254), 'fits')).toBe(4); // the table's key limit
    await rejectsCall(() => t.append(Buffer.alloc(255), 'x'), 'BIRCH_KEY_TOO_LARGE');
  });

  it('appending to a counter and incrementing an appended number', async () => {
    const db = openStore();
    expect(await db.incr('n', 12)).toBe(12);
    expect(await db.append('n', '3')).toBe(3);
    expect(await db.incr('n')).toBe(124);
    expect(await db.append('n', 'x')).toBe(4);
    await rejectsCall(() => db.incr('n'), 'BIRCH_NOT_AN_INTEGER');
    expect(str(db.get('n'))).toBe('124x');
  });
});
