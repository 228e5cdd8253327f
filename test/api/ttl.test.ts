/**
 * Expiring keys through the public API, in real time (issue 13): short
 * lifetimes (tens to hundreds of ms) and polling, never tight timing. An
 * expired key is invisible to every read and behaves as absent to every
 * write from the instant it expires; put without ttl clears a lifetime;
 * expire, persist and ttl; batches with ttl; deadlines are absolute and
 * survive a reopen; bad ttl values are refused before anything is queued;
 * the background purge deletes what expired and nothing that was saved in
 * time (its own tests are in test/cleaner/purger.test.ts).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { dump, type BatchOp, type BirchError, type Store } from '../../src/index.js';
import { eventually, rejects, rejectsCall, sleep, str, until } from './datamodel-util.js';
import { expectCheck, openStore, tmp } from './util.js';

/** Put `key` with a short lifetime and wait until every read misses it. */
async function putExpired(db: Store, key: string, value = 'doomed', ttl = 30): Promise<void> {
  const t0 = Date.now();
  await db.put(key, value, { ttl });
  await until(t0 + ttl);
  await eventually(() => db.get(key) === undefined, `${key} expires`);
}

/** What a sink collects, as text. */
function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('latin1');
  return w;
}

const hexOf = (s: string): string => Buffer.from(s).toString('hex');

describe('an expired key is invisible to every read', () => {
  it('get, ttl, range, keys, snapshots (taken before or after), tables(), dump', async () => {
    const db = openStore();
    await db.put('a', 'stays');
    await db.put('c', 'stays');
    const t0 = Date.now();
    await db.put('b', 'short', { ttl: 300 });
    const snapBefore = db.snapshot();
    if (Date.now() < t0 + 150) {
      // Still well inside its lifetime: visible everywhere.
      expect(str(db.get('b'))).toBe('short');
      expect([...db.keys()].map(String)).toEqual(['a', 'b', 'c']);
      expect(str(snapBefore.get('b'))).toBe('short');
      const left = db.ttl('b')!;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(300);
    }
    await until(t0 + 300);
    await eventually(() => db.get('b') === undefined, 'b expires');
    expect(db.ttl('b')).toBeUndefined();
    expect([...db.keys()].map(String)).toEqual(['a', 'c']);
    expect([...db.range()].map(([k, v]) => [String(k), String(v)])).toEqual([
      ['a', 'stays'],
      ['c', 'stays'],
    ]);
    expect([...db.range({ reverse: true })].map(([k]) => String(k))).toEqual(['c', 'a']);
    expect([...db.range({ gte: 'b', lte: 'b' })]).toEqual([]);
    expect([...db.keys({ prefix: 'b' })]).toEqual([]);
    expect([...db.keys({ gt: 'a', limit: 1 })].map(String)).toEqual(['c']);
    // A snapshot taken while the key was live hides it too, from the instant it expired.
    expect(snapBefore.get('b')).toBeUndefined();
    expect(snapBefore.ttl('b')).toBeUndefined();
    expect([...snapBefore.keys()].map(String)).toEqual(['a', 'c']);
    snapBefore.release();
    const snapAfter = db.snapshot();
    expect(snapAfter.get('b')).toBeUndefined();
    expect([...snapAfter.range()].length).toBe(2);
    snapAfter.release();
    const out = sink();
    const r = await dump(db, out);
    expect(r.pairs).toBe(2);
    expect(out.text()).not.toContain(`${hexOf('b')}\t`);
    expectCheck(db);
  });

  it('in a table, and tables() no longer lists a table whose keys all expired', async () => {
    const db = openStore();
    const t = db.table('t');
    const t0 = Date.now();
    await t.put('k', 'v', { ttl: 40 });
    await db.table('other').put('k', 'v');
    await until(t0 + 40);
    await eventually(() => t.get('k') === undefined, 'the table key expires');
    expect([...t.range()]).toEqual([]);
    expect(db.tables()).toEqual(['other']);
    const snap = db.snapshot();
    expect(snap.table('t').get('k')).toBeUndefined();
    snap.release();
  });

  it('a snapshot hides a key that expires while the snapshot is held, mid-iteration too', async () => {
    const db = openStore();
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2', ttl: 60 },
      { type: 'put', key: 'c', value: '3' },
    ]);
    const t0 = Date.now();
    const snap = db.snapshot();
    const it = snap.keys();
    const first = it.next();
    expect(String(first.value)).toBe('a');
    await until(t0 + 60);
    await eventually(() => snap.get('b') === undefined, 'b expires in the snapshot');
    expect([...it].map(String)).toEqual(['c']);
    snap.release();
  });
});

describe('an expired key is absent to every write', () => {
  it('add succeeds; modify, cas, cad fail; delete, expire, persist report nothing', async () => {
    const db = openStore();
    for (const k of ['add', 'modify', 'cas', 'cad', 'delete', 'expire', 'persist']) await putExpired(db, k, 'old');
    expect(await db.add('add', 'new')).toBe(true);
    expect(str(db.get('add'))).toBe('new');
    expect(db.ttl('add')).toBe(Infinity); // the old lifetime is gone with the old value
    expect(await db.modify('modify', 'new')).toBe(false);
    expect(db.get('modify')).toBeUndefined();
    expect(await db.cas('cas', 'old', 'new')).toBe(false);
    expect(db.get('cas')).toBeUndefined();
    expect(await db.cad('cad', 'old')).toBe(false);
    expect(await db.delete('delete')).toBe(false);
    expect(await db.expire('expire', 60_000)).toBe(false);
    expect(db.get('expire')).toBeUndefined(); // not brought back
    expect(await db.persist('persist')).toBe(false);
    expect(db.get('persist')).toBeUndefined();
    expectCheck(db);
  });

  it('incr starts from 0 and append from empty, without the old lifetime', async () => {
    const db = openStore();
    await putExpired(db, 'n', '41');
    await putExpired(db, 's', 'old');
    expect(await db.incr('n')).toBe(1);
    expect(str(db.get('n'))).toBe('1');
    expect(db.ttl('n')).toBe(Infinity);
    expect(await db.append('s', 'x')).toBe(1);
    expect(str(db.get('s'))).toBe('x');
    expect(db.ttl('s')).toBe(Infinity);
    // Non-integer garbage that expired does not block incr either.
    await putExpired(db, 'junk', 'not a number');
    expect(await db.incr('junk', 5)).toBe(5);
  });

  it('put over an expired key stores the new value', async () => {
    const db = openStore();
    await putExpired(db, 'k');
    await db.put('k', 'fresh');
    expect(str(db.get('k'))).toBe('fresh');
    expect(db.ttl('k')).toBe(Infinity);
  });
});

describe('the background purge', () => {
  it('deletes keys that expired, and none whose lifetime was removed, lengthened or replaced before it passed', async () => {
    const db = openStore();
    const t = db.table('t');
    const n = 40;
    const t0 = Date.now();
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      ps.push(db.put(`k${i}`, `v${i}`, { ttl: 200 }));
      ps.push(t.put(`k${i}`, `v${i}`, { ttl: 200 }));
    }
    await Promise.all(ps);
    // Before the deadline: save a fifth of them each way; the rest expire.
    const saved: Array<Promise<unknown>> = [];
    for (const r of [db, t]) {
      for (let i = 0; i < n; i += 5) {
        saved.push(r.persist(`k${i}`));
        saved.push(r.put(`k${i + 1}`, 'replaced'));
        saved.push(r.expire(`k${i + 2}`, 60_000));
        saved.push(r.put(`k${i + 3}`, 'longer', { ttl: 60_000 }));
      }
    }
    const results = await Promise.all(saved);
    if (Date.now() >= t0 + 150) return; // the machine stalled: the race this test is about may have gone either way
    expect(results.every((x) => x === true || x === undefined)).toBe(true);
    const kept = (4 * n) / 5;
    await until(t0 + 200);
    await eventually(() => db.stats().keys === 2 * kept, `the purge leaves ${2 * kept} keys`, 15_000);
    for (const r of [db, t]) {
      for (let i = 0; i < n; i += 5) {
        expect(str(r.get(`k${i}`))).toBe(`v${i}`);
        expect(r.ttl(`k${i}`)).toBe(Infinity);
        expect(str(r.get(`k${i + 1}`))).toBe('replaced');
        expect(str(r.get(`k${i + 2}`))).toBe(`v${i + 2}`);
        expect(r.ttl(`k${i + 2}`)!).toBeGreaterThan(1000);
        expect(str(r.get(`k${i + 3}`))).toBe('longer');
        expect(r.get(`k${i + 4}`)).toBeUndefined();
      }
      expect([...r.keys()].length).toBe(kept);
    }
    expectCheck(db);
  });
});

describe('expire, persist, ttl', () => {
  it('expire resolves true for a live key and false for an absent one; it replaces the lifetime', async () => {
    const db = openStore();
    await db.put('k', 'v');
    expect(await db.expire('absent', 1000)).toBe(false);
    expect(db.get('absent')).toBeUndefined();
    expect(await db.expire('k', 60_000)).toBe(true);
    const l1 = db.ttl('k')!;
    expect(l1).toBeGreaterThan(50_000);
    expect(l1).toBeLessThanOrEqual(60_000);
    expect(await db.expire('k', 5_000)).toBe(true); // shorter replaces longer
    expect(db.ttl('k')!).toBeLessThanOrEqual(5_000);
    expect(await db.expire('k', 120_000)).toBe(true); // and longer replaces shorter
    expect(db.ttl('k')!).toBeGreaterThan(60_000);
    expect(str(db.get('k'))).toBe('v'); // the value is untouched
  });

  it('expire lengthens a short lifetime so the key outlives it', async () => {
    const db = openStore();
    const t0 = Date.now();
    await db.put('k', 'v', { ttl: 250 });
    if (!(await db.expire('k', 60_000))) {
      expect(Date.now()).toBeGreaterThanOrEqual(t0 + 250); // only if the machine stalled that long
      return;
    }
    await until(t0 + 300);
    expect(str(db.get('k'))).toBe('v');
  });

  it('expire with 0 or less deletes the key at once', async () => {
    const db = openStore();
    for (const ms of [0, -1, -1e12, -0.5]) {
      await db.put('k', 'v', { ttl: 60_000 });
      expect(await db.expire('k', ms)).toBe(true);
      expect(db.get('k')).toBeUndefined();
      expect(db.ttl('k')).toBeUndefined();
      expect([...db.keys()]).toEqual([]);
      expect(await db.expire('k', ms)).toBe(false);
    }
    await db.put('plain', 'v');
    expect(await db.expire('plain', 0)).toBe(true);
    expect(db.get('plain')).toBeUndefined();
  });

  it('a short expire makes the key expire in real time', async () => {
    const db = openStore();
    await db.put('k', 'v');
    const t0 = Date.now();
    expect(await db.expire('k', 40)).toBe(true);
    await until(t0 + 40);
    await eventually(() => db.get('k') === undefined, 'k expires');
    expect(db.ttl('k')).toBeUndefined();
  });

  it('persist resolves true only when it removed a lifetime', async () => {
    const db = openStore();
    await db.put('plain', 'v');
    await db.put('timed', 'v', { ttl: 60_000 });
    expect(await db.persist('plain')).toBe(false);
    expect(await db.persist('absent')).toBe(false);
    expect(await db.persist('timed')).toBe(true);
    expect(db.ttl('timed')).toBe(Infinity);
    expect(await db.persist('timed')).toBe(false);
    expect(str(db.get('timed'))).toBe('v');
    expect(db.get('absent')).toBeUndefined();
  });

  it('a persisted key outlives its old deadline', async () => {
    const db = openStore();
    const t0 = Date.now();
    await db.put('k', 'v', { ttl: 200 });
    if (!(await db.persist('k'))) {
      expect(Date.now()).toBeGreaterThanOrEqual(t0 + 200); // only if the machine stalled that long
      return;
    }
    await until(t0 + 250);
    expect(str(db.get('k'))).toBe('v');
    expect(db.ttl('k')).toBe(Infinity);
  });

  it('ttl: Infinity without a lifetime, the milliseconds left with one, undefined if absent', async () => {
    const db = openStore();
    await db.put('plain', 'v');
    await db.put('timed', 'v', { ttl: 10_000 });
    expect(db.ttl('plain')).toBe(Infinity);
    expect(db.ttl('absent')).toBeUndefined();
    const a = db.ttl('timed')!;
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThanOrEqual(10_000);
    await sleep(30);
    const b = db.ttl('timed')!;
    expect(b).toBeLessThan(a); // it counts down
    expect(b).toBeGreaterThan(0);
    // Fractional ttls are rounded up, never down to an instant expiry.
    await db.put('frac', 'v', { ttl: 0.25 });
    expect(db.ttl('frac') === undefined || db.ttl('frac')! <= 1).toBe(true);
  });
});

describe('which writes keep, set or clear a lifetime', () => {
  it('put without ttl clears a lifetime; put with ttl sets or replaces it', async () => {
    const db = openStore();
    await db.put('k', 'v1', { ttl: 60_000 });
    await db.put('k', 'v2');
    expect(db.ttl('k')).toBe(Infinity);
    await db.put('k', 'v3', { ttl: 5_000 });
    expect(db.ttl('k')!).toBeLessThanOrEqual(5_000);
    await db.put('k', 'v4', { ttl: 90_000 });
    expect(db.ttl('k')!).toBeGreaterThan(60_000);
    await db.put('k', 'v5', { ttl: undefined });
    expect(db.ttl('k')).toBe(Infinity);
    // And the cleared lifetime no longer applies in real time.
    const t0 = Date.now();
    await db.put('short', 'a', { ttl: 100 });
    await db.put('short', 'b');
    await until(t0 + 150);
    expect(str(db.get('short'))).toBe('b');
  });

  it('add: with ttl sets a lifetime on a new key; a failed add changes nothing', async () => {
    const db = openStore();
    expect(await db.add('new', 'v', { ttl: 60_000 })).toBe(true);
    expect(db.ttl('new')!).toBeGreaterThan(0);
    expect(db.ttl('new')!).toBeLessThanOrEqual(60_000);
    expect(await db.add('plain', 'v')).toBe(true);
    expect(db.ttl('plain')).toBe(Infinity);
    // Failed adds: neither the value nor the lifetime change.
    expect(await db.add('new', 'other', { ttl: 1_000 })).toBe(false);
    expect(db.ttl('new')!).toBeGreaterThan(1_000);
    expect(await db.add('plain', 'other', { ttl: 1_000 })).toBe(false);
    expect(db.ttl('plain')).toBe(Infinity);
    expect(str(db.get('plain'))).toBe('v');
  });

  it('modify and cas: without ttl clear the lifetime, with ttl set it; failed ones change nothing', async () => {
    const db = openStore();
    await db.put('m', 'v', { ttl: 60_000 });
    expect(await db.modify('m', 'v2')).toBe(true);
    expect(db.ttl('m')).toBe(Infinity);
    expect(await db.modify('m', 'v3', { ttl: 30_000 })).toBe(true);
    expect(db.ttl('m')!).toBeLessThanOrEqual(30_000);
    expect(await db.modify('absent', 'x', { ttl: 30_000 })).toBe(false);
    expect(db.ttl('absent')).toBeUndefined();

    await db.put('c', 'v', { ttl: 60_000 });
    expect(await db.cas('c', 'wrong', 'x')).toBe(false);
    expect(db.ttl('c')!).toBeGreaterThan(30_000); // failed cas: lifetime kept
    expect(await db.cas('c', 'v', 'v2')).toBe(true);
    expect(db.ttl('c')).toBe(Infinity);
    expect(await db.cas('c', 'v2', 'v3', { ttl: 20_000 })).toBe(true);
    expect(db.ttl('c')!).toBeLessThanOrEqual(20_000);
    expect(str(db.get('c'))).toBe('v3');
  });

  it('incr and append keep the lifetime', async () => {
    const db = openStore();
    await db.put('n', '1', { ttl: 60_000 });
    await db.put('s', 'a', { ttl: 60_000 });
    expect(await db.incr('n')).toBe(2);
    expect(await db.append('s', 'b')).toBe(2);
    expect(db.ttl('n')!).toBeGreaterThan(0);
    expect(db.ttl('n')!).toBeLessThanOrEqual(60_000);
    expect(db.ttl('s')!).toBeGreaterThan(0);
    expect(db.ttl('s')!).toBeLessThanOrEqual(60_000);
    // In real time: an incremented key still expires on its deadline.
    const t0 = Date.now();
    await db.put('short', '1', { ttl: 80 });
    await db.incr('short');
    await until(t0 + 80);
    await eventually(() => db.get('short') === undefined, 'the incremented key expires');
  });

  it('a cad of a key with a lifetime deletes it (and its lifetime)', async () => {
    const db = openStore();
    await db.put('k', 'v', { ttl: 60_000 });
    expect(await db.cad('k', 'v')).toBe(true);
    expect(db.ttl('k')).toBeUndefined();
    await db.put('k', 'again');
    expect(db.ttl('k')).toBe(Infinity);
  });
});

describe('batches', () => {
  it('a batch put takes a ttl; others in the batch have none', async () => {
    const db = openStore();
    await db.put('had', 'v', { ttl: 60_000 });
    const t0 = Date.now();
    await db.batch([
      { type: 'put', key: 'short', value: 's', ttl: 50 },
      { type: 'put', key: 'long', value: 'l', ttl: 60_000 },
      { type: 'put', key: 'plain', value: 'p' },
      { type: 'put', key: 'had', value: 'cleared' },
      { type: 'put', table: 't', key: 'short', value: 's', ttl: 50 },
      { type: 'put', table: 't', key: 'plain', value: 'p' },
    ]);
    expect(db.ttl('long')!).toBeGreaterThan(0);
    expect(db.ttl('plain')).toBe(Infinity);
    expect(db.ttl('had')).toBe(Infinity);
    await until(t0 + 50);
    await eventually(() => db.get('short') === undefined && db.table('t').get('short') === undefined, 'the short keys expire');
    expect([...db.keys()].map(String)).toEqual(['had', 'long', 'plain']);
    expect([...db.table('t').keys()].map(String)).toEqual(['plain']);
  });

  it('the same key twice in a batch: the last one wins, lifetime included', async () => {
    const db = openStore();
    await db.batch([
      { type: 'put', key: 'a', value: '1', ttl: 10_000 },
      { type: 'put', key: 'a', value: '2' },
      { type: 'put', key: 'b', value: '1' },
      { type: 'put', key: 'b', value: '2', ttl: 10_000 },
      { type: 'put', key: 'c', value: '1', ttl: 10_000 },
      { type: 'del', key: 'c' },
    ]);
    expect(db.ttl('a')).toBe(Infinity);
    expect(db.ttl('b')!).toBeLessThanOrEqual(10_000);
    expect(db.ttl('c')).toBeUndefined();
    expectCheck(db);
  });
});

describe('deadlines are absolute and survive a reopen', () => {
  it('a lifetime keeps counting down across close and reopen, and the key expires on time', async () => {
    const dir = tmp();
    let db = openStore(dir);
    const t0 = Date.now();
    const putting = db.put('long', 'v', { ttl: 60_000 });
    const tAfterPut = Date.now(); // the deadline is at most this plus 60 s
    await putting;
    await db.put('short', 'v', { ttl: 300 });
    await db.table('t').put('short', 'v', { ttl: 300 });
    await db.put('plain', 'v');
    await db.close();
    db = openStore(dir);
    const t1 = Date.now();
    const left = db.ttl('long')!;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(tAfterPut + 60_000 - t1); // it went on counting while the store was closed
    expect(db.ttl('plain')).toBe(Infinity);
    await until(t0 + 300);
    await eventually(() => db.get('short') === undefined && db.table('t').get('short') === undefined, 'the short keys expire');
    expect([...db.keys()].map(String)).toEqual(['long', 'plain']);
    expectCheck(db);
  });

  it('a key that expired before close stays invisible after reopen, and after another', async () => {
    const dir = tmp();
    let db = openStore(dir);
    await putExpired(db, 'gone');
    const t = db.table('t');
    const t0 = Date.now();
    await t.put('gone', 'v', { ttl: 30 });
    await until(t0 + 30);
    await db.put('kept', 'v');
    await db.close();
    for (let i = 0; i < 2; i++) {
      db = openStore(dir);
      expect(db.get('gone')).toBeUndefined();
      expect(db.ttl('gone')).toBeUndefined();
      expect(db.table('t').get('gone')).toBeUndefined();
      expect(db.table('t').ttl('gone')).toBeUndefined();
      expect([...db.keys()].map(String)).toEqual(['kept']);
      expect(db.tables()).toEqual([]);
      expect(await db.modify('gone', 'x')).toBe(false);
      await db.close();
    }
    db = openStore(dir);
    expect(await db.add('gone', 'new')).toBe(true);
    expect(await db.table('t').add('gone', 'new')).toBe(true);
  });

  it('a key persisted before close has no lifetime after reopen', async () => {
    const dir = tmp();
    let db = openStore(dir);
    await db.put('k', 'v', { ttl: 60_000 });
    expect(await db.persist('k')).toBe(true);
    await db.close();
    db = openStore(dir);
    expect(db.ttl('k')).toBe(Infinity);
  });
});

describe('bad ttl values', () => {
  const BAD: Array<[string, unknown]> = [
    ['0', 0],
    ['-0', -0],
    ['negative', -5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['a string', '100'],
    ['null', null],
    ['a bigint', 100n],
    ['an object', {}],
    ['true', true],
  ];

  it('put, add, modify and cas refuse them with BIRCH_BAD_ARGUMENT and write nothing', async () => {
    const dir = tmp();
    const db = openStore(dir);
    await db.put('k', 'orig', { ttl: 60_000 });
    const before = db.ttl('k')!;
    for (const [what, ttl] of BAD) {
      const o = { ttl } as never;
      await rejectsCall(() => db.put('k', 'bad', o), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.put('new', 'bad', o), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.add('new', 'bad', o), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.modify('k', 'bad', o), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.cas('k', 'orig', 'bad', o), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.table('t').put('k', 'bad', o), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.batch([{ type: 'put', key: 'new', value: 'v' }, { type: 'put', key: 'k', value: 'bad', ttl } as BatchOp]), 'BIRCH_BAD_ARGUMENT');
      expect(str(db.get('k')), what).toBe('orig');
      expect(db.get('new'), what).toBeUndefined();
    }
    expect(db.ttl('k')!).toBeLessThanOrEqual(before);
    expect(db.ttl('k')!).toBeGreaterThan(0);
    expect(db.tables()).toEqual([]);
    expect([...db.keys()].map(String)).toEqual(['k']);
    expectCheck(db);
  });

  it('a huge but finite ttl is refused or keeps the key, never loses it', async () => {
    const db = openStore();
    const outcome = async (f: () => Promise<unknown>, k: string): Promise<string> => {
      try {
        await f();
      } catch (err) {
        return (err as BirchError).code === 'BIRCH_BAD_ARGUMENT' ? 'refused' : `threw ${String(err)}`;
      }
      const left = db.ttl(k);
      // Accepted: the key must still be there, with (at least) a very long lifetime.
      return str(db.get(k)) === 'v' && left !== undefined && left > 1e15 ? 'kept' : `lost (get ${String(str(db.get(k)))}, ttl ${String(left)})`;
    };
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const ttl of [2 ** 64, 1e20, 1e300, Number.MAX_VALUE]) {
      const k = `put-${ttl}`;
      got[k] = await outcome(() => db.put(k, 'v', { ttl }), k);
      want[k] = got[k] === 'refused' ? 'refused' : 'kept';
      const e = `expire-${ttl}`;
      await db.put(e, 'v');
      got[e] = await outcome(() => db.expire(e, ttl), e);
      want[e] = got[e] === 'refused' ? 'refused' : 'kept';
    }
    expect(got).toEqual(want);
  });

  it('write options other than ttl, or options that are not an object, are refused', async () => {
    const db = openStore();
    await rejectsCall(() => db.put('k', 'v', { ttl: 100, sync: true } as never), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => db.put('k', 'v', 100 as never), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => db.put('k', 'v', null as never), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => db.add('k', 'v', 'ttl' as never), 'BIRCH_BAD_ARGUMENT');
    expect(db.get('k')).toBeUndefined();
  });

  it('expire refuses what is not a finite number of milliseconds, and changes nothing', async () => {
    const db = openStore();
    await db.put('k', 'v', { ttl: 60_000 });
    for (const ms of [NaN, Infinity, '100', null, undefined, 10n, {}]) {
      await rejectsCall(() => db.expire('k', ms as never), 'BIRCH_BAD_ARGUMENT');
    }
    expect(str(db.get('k'))).toBe('v');
    expect(db.ttl('k')!).toBeGreaterThan(50_000);
  });
});

describe('keepTtl', () => {
  it('put, modify and cas with keepTtl keep a live lifetime, clear none, and refuse ttl beside it', async () => {
    const db = openStore();
    await db.put('k', 'v1', { ttl: 60_000 });
    const before = db.ttl('k')!;
    await db.put('k', 'v2', { keepTtl: true });
    expect(str(db.get('k'))).toBe('v2');
    const kept = db.ttl('k')!;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(before);
    expect(await db.modify('k', 'v3', { keepTtl: true })).toBe(true);
    expect(await db.cas('k', 'v3', 'v4', { keepTtl: true })).toBe(true);
    expect(db.ttl('k')!).toBeLessThanOrEqual(kept);
    expect(db.ttl('k')!).toBeGreaterThan(0);
    // Without keepTtl the lifetime goes, as before.
    await db.put('k', 'v5');
    expect(db.ttl('k')).toBe(Infinity);
    // A key without a lifetime stays without one; a missing key is created without one.
    await db.put('k', 'v6', { keepTtl: true });
    expect(db.ttl('k')).toBe(Infinity);
    await db.put('new', 'x', { keepTtl: true });
    expect(db.ttl('new')).toBe(Infinity);
    // In one batch of the group commit: the lifetime set before it is the one kept.
    const a = db.put('g', '1', { ttl: 30_000 });
    const b = db.put('g', '2', { keepTtl: true });
    await Promise.all([a, b]);
    expect(str(db.get('g'))).toBe('2');
    expect(db.ttl('g')!).toBeGreaterThan(0);
    await rejects(db.put('k', 'v', { ttl: 10, keepTtl: true }), 'BIRCH_BAD_ARGUMENT');
    await rejects(db.put('k', 'v', { keepTtl: 1 as unknown as boolean }), 'BIRCH_BAD_ARGUMENT');
    expect(str(db.get('k'))).toBe('v6');
  });

  it('keeps nothing of a key that expired: the new value does not expire', async () => {
    const db = openStore();
    await db.put('k', 'old', { ttl: 30 });
    await sleep(80);
    await db.put('k', 'new', { keepTtl: true });
    expect(str(db.get('k'))).toBe('new');
    expect(db.ttl('k')).toBe(Infinity);
  });
});
