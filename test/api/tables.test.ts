/**
 * Tables through the public API (issue 13): isolation from each other and
 * from the store's own keys, the whole read and write API on a table,
 * tables(), dropTable(), batches across tables (atomic: all or nothing),
 * name validation, the key limit a table's prefix takes from, and tables
 * across close and reopen.
 */
import { describe, expect, it } from 'vitest';
import { BirchError, Table, open, type BatchOp, type Store } from '../../src/index.js';
import { eventually, openAs, rejects, rejectsCall, str, throws } from './datamodel-util.js';
import { expectCheck, openStore, tmp } from './util.js';

/** Every pair of a binary keyspace (store, table, snapshot), as utf8 strings. */
function pairs(r: { range(): IterableIterator<[Buffer, Buffer]> }): [string, string][] {
  return [...r.range()].map(([k, v]) => [k.toString('utf8'), v.toString('utf8')]);
}

describe('isolation', () => {
  it('the same key bytes in the store and in two tables are three different keys', async () => {
    const db = openStore();
    const a = db.table('a');
    const b = db.table('b');
    await Promise.all([db.put('k', 'store'), a.put('k', 'in a'), b.put('k', 'in b'), a.put('only-a', '1')]);
    expect(str(db.get('k'))).toBe('store');
    expect(str(a.get('k'))).toBe('in a');
    expect(str(b.get('k'))).toBe('in b');
    expect(db.get('only-a')).toBeUndefined();
    expect(b.get('only-a')).toBeUndefined();
    expect(pairs(db)).toEqual([['k', 'store']]);
    expect(pairs(a)).toEqual([['k', 'in a'], ['only-a', '1']]);
    expect(pairs(b)).toEqual([['k', 'in b']]);
    expect([...a.keys()].map(String)).toEqual(['k', 'only-a']);

    // Deleting in one keyspace leaves the others.
    expect(await a.delete('k')).toBe(true);
    expect(a.get('k')).toBeUndefined();
    expect(str(db.get('k'))).toBe('store');
    expect(str(b.get('k'))).toBe('in b');
    expect(await db.delete('k')).toBe(true);
    expect(str(b.get('k'))).toBe('in b');
    expect(await db.delete('only-a')).toBe(false);
    expect(str(a.get('only-a'))).toBe('1');

    // Range bounds that cover everything stay inside the keyspace.
    expect(pairs({ range: () => b.range({ gte: Buffer.alloc(0), lte: Buffer.alloc(255, 0xff) }) })).toEqual([['k', 'in b']]);
    expect([...b.range({ reverse: true })].length).toBe(1);
    expect([...db.range({ prefix: '' })]).toEqual([]);
    expectCheck(db);
  });

  it('a table whose name is a prefix of another, and names in other scripts, are separate', async () => {
    const db = openStore();
    const names = ['t', 'tt', 't\0', 'T', 'таблица', '表', '😀', ' '];
    await Promise.all(names.map((n) => db.table(n).put('k', `v:${n}`)));
    for (const n of names) expect(pairs(db.table(n))).toEqual([['k', `v:${n}`]]);
    expect(db.tables()).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(pairs(db)).toEqual([]);
    expectCheck(db);
  });

  it('two handles on one name are one table', async () => {
    const db = openStore();
    const h1 = db.table('same');
    const h2 = db.table('same');
    await h1.put('x', '1');
    expect(str(h2.get('x'))).toBe('1');
    expect(h1.name).toBe('same');
    expect(h1).toBeInstanceOf(Table);
  });
});

describe('the read and write API on a table', () => {
  it('get, put, delete, add, modify, cas, cad', async () => {
    const db = openStore();
    const t = db.table('t');
    await db.put('k', 'store value'); // must never be touched below
    expect(t.get('k')).toBeUndefined();
    await t.put('k', 'v1');
    expect(str(t.get('k'))).toBe('v1');
    expect(await t.add('k', 'nope')).toBe(false);
    expect(await t.add('k2', 'added')).toBe(true);
    expect(str(t.get('k2'))).toBe('added');
    expect(await t.modify('k', 'v2')).toBe(true);
    expect(await t.modify('absent', 'x')).toBe(false);
    expect(t.get('absent')).toBeUndefined();
    expect(await t.cas('k', 'wrong', 'v3')).toBe(false);
    expect(await t.cas('k', 'v2', 'v3')).toBe(true);
    expect(str(t.get('k'))).toBe('v3');
    expect(await t.cas('absent', 'x', 'y')).toBe(false);
    expect(await t.cad('k', 'wrong')).toBe(false);
    expect(await t.cad('k', 'v3')).toBe(true);
    expect(t.get('k')).toBeUndefined();
    expect(await t.delete('k2')).toBe(true);
    expect(await t.delete('k2')).toBe(false);
    expect(str(db.get('k'))).toBe('store value');
    // The store-level conditional writes do not see the table's keys.
    await t.put('shared', 'table');
    expect(await db.add('shared', 'store')).toBe(true);
    expect(await db.modify('only-in-table', 'x')).toBe(false);
    await t.put('only-in-table', 'x');
    expect(await db.cad('only-in-table', 'x')).toBe(false);
    expect(str(t.get('only-in-table'))).toBe('x');
    expectCheck(db);
  });

  it('incr, append, expire, persist, ttl', async () => {
    const db = openStore();
    const t = db.table('t');
    await db.put('n', '100');
    expect(await t.incr('n')).toBe(1);
    expect(await t.incr('n', 41)).toBe(42);
    expect(str(db.get('n'))).toBe('100');
    expect(await db.incr('n')).toBe(101);
    expect(str(t.get('n'))).toBe('42');
    expect(await t.append('s', 'ab')).toBe(2);
    expect(await t.append('s', Buffer.from('cd'))).toBe(4);
    expect(str(t.get('s'))).toBe('abcd');
    expect(db.get('s')).toBeUndefined();

    expect(t.ttl('s')).toBe(Infinity);
    expect(t.ttl('absent')).toBeUndefined();
    expect(await t.expire('s', 60_000)).toBe(true);
    const left = t.ttl('s')!;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    expect(db.ttl('n')).toBe(Infinity); // the store's key of the same name has no lifetime
    expect(await t.expire('absent', 1000)).toBe(false);
    expect(await t.persist('s')).toBe(true);
    expect(t.ttl('s')).toBe(Infinity);
    expect(await t.persist('s')).toBe(false);
    expect(await t.expire('s', 0)).toBe(true);
    expect(t.get('s')).toBeUndefined();
    expect(t.ttl('s')).toBeUndefined();
    expectCheck(db);
  });

  it('batch, range and keys with bounds, reverse and limit', async () => {
    const db = openStore();
    const t = db.table('t');
    const other = db.table('other');
    await other.put('c', 'other');
    await db.put('c', 'store');
    await t.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
      { type: 'put', key: 'c', value: '3' },
      { type: 'put', key: 'd', value: '4' },
      { type: 'put', key: 'e', value: '5' },
      { type: 'del', key: 'e' },
      { type: 'put', key: 'x', value: 'x', ttl: 60_000 },
    ]);
    expect(pairs(t)).toEqual([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['x', 'x']]);
    expect(t.ttl('x')).toBeGreaterThan(0);
    expect(t.ttl('a')).toBe(Infinity);
    const ks = (o: Parameters<typeof t.keys>[0]): string[] => [...t.keys(o)].map(String);
    expect(ks({ gt: 'a', lt: 'd' })).toEqual(['b', 'c']);
    expect(ks({ gte: 'a', lte: 'd' })).toEqual(['a', 'b', 'c', 'd']);
    expect(ks({ reverse: true, limit: 2 })).toEqual(['x', 'd']);
    expect(ks({ prefix: 'c' })).toEqual(['c']);
    expect(ks({ gt: 'x' })).toEqual([]);
    expect(ks({ lt: 'a' })).toEqual([]);
    expect(ks({ limit: 0 })).toEqual([]);
    expect([...t.range({ prefix: 'b' })].map(([k, v]) => [String(k), String(v)])).toEqual([['b', '2']]);
    expect(str(other.get('c'))).toBe('other');
    expect(str(db.get('c'))).toBe('store');
    expectCheck(db);
  });

  it('refuses bad arguments on a table like on the store', async () => {
    const db = openStore();
    const t = db.table('t');
    await t.put('k', 'v');
    await rejectsCall(() => t.put(42 as never, 'v'), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => t.put('k', null as never), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => t.put('k', Buffer.alloc(256)), 'BIRCH_VALUE_TOO_LARGE', /256/);
    await rejectsCall(() => t.incr('k', 1.5), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => t.expire('k', NaN), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => t.batch('nope' as never), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => t.batch([{ type: 'frob', key: 'k' } as never]), 'BIRCH_BAD_ARGUMENT');
    throws(() => t.get(42 as never), 'BIRCH_BAD_ARGUMENT');
    throws(() => t.range({ bogus: 1 } as never), 'BIRCH_BAD_ARGUMENT');
    expect(str(t.get('k'))).toBe('v');
    expect(pairs(t)).toEqual([['k', 'v']]);
  });

  it('a handle refuses writes once close() is called and reads once the store is closed', async () => {
    const db = openStore();
    const t = db.table('t');
    await t.put('k', 'v');
    const closing = db.close();
    await rejectsCall(() => t.put('k2', 'v'), 'BIRCH_CLOSED');
    await rejectsCall(() => t.incr('n'), 'BIRCH_CLOSED');
    await closing;
    throws(() => t.get('k'), 'BIRCH_CLOSED');
    throws(() => db.table('u'), 'BIRCH_CLOSED');
    throws(() => db.tables(), 'BIRCH_CLOSED');
    await rejectsCall(() => db.dropTable('t'), 'BIRCH_CLOSED');
  });
});

describe('tables()', () => {
  it('lists the tables holding live keys, in name order, and nothing else', async () => {
    const db = openStore();
    expect(db.tables()).toEqual([]);
    db.table('never-written'); // a handle alone makes no table
    await db.put('store-key', 'v'); // the store's own keys are no table
    expect(db.tables()).toEqual([]);
    await db.table('b').put('k', 'v');
    await db.table('a').put('k', 'v');
    await db.table('c').put('k', 'v');
    expect(db.tables()).toEqual(['a', 'b', 'c']);

    // A table whose keys were all deleted is not listed.
    expect(await db.table('b').delete('k')).toBe(true);
    expect(db.tables()).toEqual(['a', 'c']);
    // Nor one whose only key is a failed conditional write.
    expect(await db.table('d').modify('k', 'v')).toBe(false);
    expect(await db.table('e').delete('k')).toBe(false);
    expect(db.tables()).toEqual(['a', 'c']);
    // Nor one whose keys expired.
    await db.table('f').put('k', 'v', { ttl: 60_000 });
    expect(db.tables()).toEqual(['a', 'c', 'f']);
    expect(await db.table('f').expire('k', 0)).toBe(true);
    expect(db.tables()).toEqual(['a', 'c']);
    // Writing again lists it again.
    await db.table('b').put('k2', 'v');
    expect(db.tables()).toEqual(['a', 'b', 'c']);
    expectCheck(db);
  });

  it('does not list a table until its first write has committed', async () => {
    const db = openStore();
    const p = db.table('t').put('k', 'v');
    expect(db.tables()).toEqual([]);
    expect(db.table('t').get('k')).toBeUndefined();
    await p;
    expect(db.tables()).toEqual(['t']);
  });
});

describe('dropTable', () => {
  it('resolves true for a table and false for a name that has none; readers see nothing after', async () => {
    const db = openStore();
    const t = db.table('t');
    const keep = db.table('keep');
    await Promise.all([t.put('a', '1'), t.put('b', '2'), keep.put('a', 'kept'), db.put('a', 'store')]);
    expect(await db.dropTable('nothing-here')).toBe(false);
    expect(await db.dropTable('t')).toBe(true);
    expect(t.get('a')).toBeUndefined();
    expect(db.table('t').get('b')).toBeUndefined();
    expect([...t.range()]).toEqual([]);
    expect([...t.keys()]).toEqual([]);
    expect(t.ttl('a')).toBeUndefined();
    expect(db.tables()).toEqual(['keep']);
    // Dropping again: nothing to drop.
    expect(await db.dropTable('t')).toBe(false);
    // Others untouched.
    expect(str(keep.get('a'))).toBe('kept');
    expect(str(db.get('a'))).toBe('store');
    expectCheck(db);
  });

  it('a new write to the name starts an empty table', async () => {
    const db = openStore();
    await db.table('t').batch([
      { type: 'put', key: 'a', value: 'old' },
      { type: 'put', key: 'b', value: 'old' },
      { type: 'put', key: 'n', value: '41' },
    ]);
    expect(await db.dropTable('t')).toBe(true);
    const t = db.table('t');
    expect(await t.add('a', 'new')).toBe(true); // 'a' is absent in the new table
    expect(await t.modify('b', 'new')).toBe(false);
    expect(await t.incr('n')).toBe(1);
    expect(await t.append('c', 'x')).toBe(1);
    expect(pairs(t)).toEqual([['a', 'new'], ['c', 'x'], ['n', '1']]);
    expect(db.tables()).toEqual(['t']);
    expectCheck(db);
  });

  it('reads see the table until the drop has committed, and none of it after', async () => {
    const db = openStore();
    const t = db.table('t');
    await t.put('k', 'v');
    const p = db.dropTable('t');
    expect(str(t.get('k'))).toBe('v'); // not committed yet: a write is never visible before it resolves
    expect(await p).toBe(true);
    expect(t.get('k')).toBeUndefined();
  });

  it('a drop and writes to the same name, issued together, apply in issue order', async () => {
    const db = openStore();
    const t = db.table('t');
    await t.put('old', '1');
    const [w1, d, w2] = await Promise.all([t.put('before-drop', '1'), db.dropTable('t'), db.table('t').put('after-drop', '2')]);
    expect(w1).toBeUndefined();
    expect(d).toBe(true);
    expect(w2).toBeUndefined();
    expect(pairs(db.table('t'))).toEqual([['after-drop', '2']]);
    expect(db.tables()).toEqual(['t']);
  });

  it('a snapshot taken before the drop still sees the old keys', async () => {
    const db = openStore();
    const t = db.table('t');
    await Promise.all([t.put('a', '1'), t.put('b', '2')]);
    const snap = db.snapshot();
    expect(await db.dropTable('t')).toBe(true);
    await db.table('t').put('a', 'new table');
    const old = snap.table('t');
    expect(str(old.get('a'))).toBe('1');
    expect([...old.range()].map(([k, v]) => [String(k), String(v)])).toEqual([['a', '1'], ['b', '2']]);
    expect([...old.keys({ reverse: true })].map(String)).toEqual(['b', 'a']);
    expect(old.ttl('a')).toBe(Infinity);
    expect(str(db.table('t').get('a'))).toBe('new table');
    // A snapshot after the drop sees only the new table.
    const snap2 = db.snapshot();
    expect(pairs(snap2.table('t'))).toEqual([['a', 'new table']]);
    expect(snap2.table('never').get('a')).toBeUndefined();
    expect([...snap2.table('never').range()]).toEqual([]);
    snap.release();
    snap2.release();
    throws(() => old.get('a'), 'BIRCH_CLOSED');
    expectCheck(db);
  });

  it('a dropped table stays dropped after close and reopen; the name starts empty there too', async () => {
    const dir = tmp();
    let db = openStore(dir);
    await Promise.all([db.table('t').put('a', '1'), db.table('u').put('a', 'u')]);
    expect(await db.dropTable('t')).toBe(true);
    await db.close();
    db = openStore(dir);
    expect(db.tables()).toEqual(['u']);
    expect(db.table('t').get('a')).toBeUndefined();
    expect([...db.table('t').range()]).toEqual([]);
    expect(await db.dropTable('t')).toBe(false);
    await db.table('t').put('b', '2');
    await db.close();
    db = openStore(dir);
    expect(db.tables()).toEqual(['t', 'u']);
    expect(pairs(db.table('t'))).toEqual([['b', '2']]);
    expect(pairs(db.table('u'))).toEqual([['a', 'u']]);
    expectCheck(db);
  });

  it('the keys of a dropped table leave stats().keys once purged; a snapshot from before the drop still sees them', async () => {
    const db = openStore();
    await db.put('own', 'v');
    const t = db.table('t');
    await t.batch(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: `k${String(i).padStart(3, '0')}`, value: 'x'.repeat(100) })));
    await db.table('u').put('k', 'v');
    expect(db.stats().keys).toBe(302);
    const snap = db.snapshot();
    expect(await db.dropTable('t')).toBe(true);
    await eventually(() => db.stats().keys === 2, 'the dropped table is purged', 15_000);
    const old = snap.table('t');
    expect([...old.keys()].length).toBe(300);
    expect(str(old.get('k123'))).toBe('x'.repeat(100));
    snap.release();
    expect(str(db.table('u').get('k'))).toBe('v');
    expect(str(db.get('own'))).toBe('v');
    expect([...db.table('t').keys()]).toEqual([]);
    expectCheck(db);
  });

  it('refuses bad names', async () => {
    const db = openStore();
    await rejectsCall(() => db.dropTable(''), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => db.dropTable(42 as never), 'BIRCH_BAD_ARGUMENT');
    await rejectsCall(() => db.dropTable('x'.repeat(256)), 'BIRCH_BAD_ARGUMENT');
  });
});

describe('batches across tables', () => {
  it('one batch writes the store and several tables (by name and by handle), atomically', async () => {
    const db = openStore();
    const a = db.table('a');
    await a.put('gone', 'x');
    const ops: BatchOp[] = [
      { type: 'put', key: 'k', value: 'store' },
      { type: 'put', table: 'a', key: 'k', value: 'a' },
      { type: 'put', table: db.table('b'), key: 'k', value: 'b' },
      { type: 'del', table: a, key: 'gone' },
      { type: 'put', table: 'c', key: 'k', value: 'c', ttl: 60_000 },
    ];
    const p = db.batch(ops);
    // Nothing is visible before it commits.
    expect(db.get('k')).toBeUndefined();
    expect(db.table('b').get('k')).toBeUndefined();
    await p;
    const snap = db.snapshot();
    for (const r of [db, snap]) {
      expect(str(r.get('k'))).toBe('store');
    }
    for (const n of ['a', 'b', 'c']) {
      expect(str(db.table(n).get('k'))).toBe(n);
      expect(str(snap.table(n).get('k'))).toBe(n);
    }
    expect(a.get('gone')).toBeUndefined();
    expect(db.table('c').ttl('k')).toBeGreaterThan(0);
    expect(db.tables()).toEqual(['a', 'b', 'c']);
    snap.release();
    expectCheck(db);
  });

  it('readers never see part of a multi-table batch', async () => {
    const db = openStore();
    const names = ['t0', 't1', 't2', 't3'];
    let seenPartial = false;
    let done = false;
    const watcher = (async () => {
      while (!done) {
        const snap = db.snapshot();
        const vals = names.map((n) => str(snap.table(n).get('k')));
        snap.release();
        if (new Set(vals).size !== 1) seenPartial = true;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let round = 0; round < 40; round++) {
      await db.batch(names.map((n) => ({ type: 'put' as const, table: n, key: 'k', value: `r${round}`.padEnd(200, '.') })));
    }
    done = true;
    await watcher;
    expect(seenPartial).toBe(false);
  });

  describe('one bad operation: the batch is refused with a typed error and nothing is applied', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['a value too large', { type: 'put', table: 'y', key: 'k', value: Buffer.alloc(256) }, 'BIRCH_VALUE_TOO_LARGE'],
      ['a key too large for the table', { type: 'put', table: 'y', key: Buffer.alloc(255), value: 'v' }, 'BIRCH_KEY_TOO_LARGE'],
      ['a key of the wrong type', { type: 'del', table: 'y', key: 7 }, 'BIRCH_BAD_ARGUMENT'],
      ['a bad ttl', { type: 'put', table: 'y', key: 'k', value: 'v', ttl: -1 }, 'BIRCH_BAD_ARGUMENT'],
      ['an empty table name', { type: 'put', table: '', key: 'k', value: 'v' }, 'BIRCH_BAD_ARGUMENT'],
      ['a table that is neither a name nor a handle', { type: 'put', table: 5, key: 'k', value: 'v' }, 'BIRCH_BAD_ARGUMENT'],
      ['a table name too long', { type: 'put', table: 'n'.repeat(256), key: 'k', value: 'v' }, 'BIRCH_BAD_ARGUMENT'],
      ['an unknown type', { type: 'incr', table: 'y', key: 'k' }, 'BIRCH_BAD_ARGUMENT'],
    ];
    for (const [what, bad, code] of cases) {
      it(what, async () => {
        const dir = tmp();
        let db = openStore(dir);
        await db.table('x').put('k', 'before');
        const good: BatchOp[] = [
          { type: 'put', key: 'k', value: 'store' },
          { type: 'put', table: 'x', key: 'k', value: 'after' },
          { type: 'put', table: 'new-table', key: 'k', value: 'v' },
        ];
        for (const at of [0, 1, 3]) {
          const ops = [...good];
          ops.splice(at, 0, bad as BatchOp);
          const err = await rejects(db.batch(ops), code as never);
          // (A bad table name is refused without naming the operation: a message, not the contract.)
          if (!what.includes('table name')) expect(err.message).toMatch(new RegExp(`operation ${at}`));
        }
        expect(db.get('k')).toBeUndefined();
        expect(str(db.table('x').get('k'))).toBe('before');
        expect(db.table('new-table').get('k')).toBeUndefined();
        expect(db.table('y').get('k')).toBeUndefined();
        expect(db.tables()).toEqual(['x']);
        // Still nothing after a reopen, and the store works.
        await db.close();
        db = openStore(dir);
        expect(db.tables()).toEqual(['x']);
        expect(db.get('k')).toBeUndefined();
        await db.batch(good);
        expect(db.tables()).toEqual(['new-table', 'x']);
        expectCheck(db);
      });
    }
  });

  it('a batch operation that names a table uses the encodings of the last handle made for it', async () => {
    const db = openStore();
    const t = db.table('t', { keyEncoding: 'tuple', valueEncoding: 'json' });
    await db.batch([{ type: 'put', table: 't', key: ['a', 1], value: { n: 1 } }]);
    expect(t.get(['a', 1])).toEqual({ n: 1 });
    await db.batch([{ type: 'put', table: t, key: ['a', 2], value: [2] }]);
    expect([...t.range()]).toEqual([
      [['a', 1], { n: 1 }],
      [['a', 2], [2]],
    ]);
  });

  it('after a drop, a batch operation naming the table still uses the encodings of the last handle made for it', async () => {
    const db = openStore();
    const m = db.table('m', { keyEncoding: 'utf8', valueEncoding: 'msgpack' });
    await db.batch([{ type: 'put', table: 'm', key: 'a', value: 'x' }]);
    expect(m.get('a')).toBe('x');
    expect(await db.dropTable('m')).toBe(true);
    // The same operation again, on the emptied table: the handle made above is still the last one made for 'm'.
    await db.batch([{ type: 'put', table: 'm', key: 'a', value: 'x' }]);
    expect(m.get('a')).toBe('x'); // stored as the raw byte 0x78, msgpack reads the fixint 120
  });

  it('refuses a table handle made by another store', async () => {
    const dirA = tmp();
    let a = openStore(dirA);
    const b = openStore();
    await b.table('y').put('k', 'in y');
    const x = a.table('x'); // a's first table: same id as b's 'y'
    let refused = false;
    try {
      await b.batch([{ type: 'put', table: x, key: 'k', value: 'from a handle of store a' }]);
    } catch (err) {
      refused = err instanceof BirchError && err.code === 'BIRCH_BAD_ARGUMENT';
    }
    // Whatever b did with it, b's own table 'y' must be intact and no table 'x' may appear in b...
    expect(str(b.table('y').get('k'))).toBe('in y');
    expect(b.tables()).toEqual(['y']);
    // ...and store a must still create its table 'x' on its first write, so that it survives a reopen.
    await x.put('k2', 'v2');
    expect(a.tables()).toEqual(['x']);
    await a.close();
    a = openStore(dirA);
    expect(str(a.table('x').get('k2'))).toBe('v2');
    expect(refused).toBe(true);
  });
});

describe('table names', () => {
  it('refuses an empty, non-string or over-255-byte name with BIRCH_BAD_ARGUMENT, everywhere', async () => {
    const db = openStore();
    const snap = db.snapshot();
    const bad: unknown[] = ['', 42, null, undefined, {}, ['a'], 'x'.repeat(256), 'é'.repeat(128)];
    for (const n of bad) {
      throws(() => db.table(n as string), 'BIRCH_BAD_ARGUMENT');
      throws(() => snap.table(n as string), 'BIRCH_BAD_ARGUMENT');
      await rejectsCall(() => db.dropTable(n as string), 'BIRCH_BAD_ARGUMENT');
    }
    snap.release();
    // 255 bytes is fine, in ASCII or multi-byte UTF-8.
    const long = 'x'.repeat(255);
    const longUtf8 = 'é'.repeat(127) + 'x';
    await db.table(long).put('k', '1');
    await db.table(longUtf8).put('k', '2');
    expect(db.tables()).toEqual([long, longUtf8]);
    expect(await db.dropTable(long)).toBe(true);
    expect(db.tables()).toEqual([longUtf8]);
    expect(db.tables()).toEqual([longUtf8]);
  });

  it('refuses unknown table options and unknown encodings', () => {
    const db = openStore();
    throws(() => db.table('t', { keyEncoding: 'latin1' as never }), 'BIRCH_BAD_ARGUMENT');
    throws(() => db.table('t', { valueEncoding: 'yaml' as never }), 'BIRCH_BAD_ARGUMENT');
    throws(() => db.table('t', { ttl: 5 } as never), 'BIRCH_BAD_ARGUMENT');
    throws(() => db.table('t', 'utf8' as never), 'BIRCH_BAD_ARGUMENT');
    throws(() => db.snapshot().table('t', { keyEncoding: 'nope' as never }), 'BIRCH_BAD_ARGUMENT');
  });

  it('keeps names that differ only in a lone surrogate apart, or refuses them', async () => {
    const dir = tmp();
    let db = openStore(dir);
    // Buffer.from(name, 'utf8') writes a lone surrogate as U+FFFD, so these two names
    // have the same UTF-8 bytes, while the utf8 key encoding refuses such strings.
    const lone = 'a\uD800';
    const replaced = 'a\uFFFD';
    let refused = false;
    try {
      await db.table(lone).put('k', 'lone');
    } catch (err) {
      refused = err instanceof BirchError && err.code === 'BIRCH_BAD_ARGUMENT';
    }
    await db.table(replaced).put('k', 'replaced');
    if (!refused) {
      await db.close();
      db = openStore(dir);
      expect(str(db.table(lone).get('k'))).toBe('lone');
    }
    expect(str(db.table(replaced).get('k'))).toBe('replaced');
    expect(refused).toBe(true);
  });
});

describe('the key limit', () => {
  it('a table key may be 255 bytes less its 1-byte prefix; one more is BIRCH_KEY_TOO_LARGE naming the sizes', async () => {
    const db = openStore();
    const t = db.table('t');
    const fits = Buffer.alloc(254, 0xab);
    await t.put(fits, 'v');
    expect(str(t.get(fits))).toBe('v');
    expect([...t.keys()]).toEqual([fits]);
    const over = Buffer.alloc(255, 0xab);
    const err = await rejectsCall(() => t.put(over, 'v'), 'BIRCH_KEY_TOO_LARGE');
    expect(err.message).toMatch(/255/);
    expect(err.message).toMatch(/254/);
    await rejectsCall(() => t.add(over, 'v'), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => t.delete(over), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => t.incr(over), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => t.append(over, 'x'), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => t.expire(over, 10), 'BIRCH_KEY_TOO_LARGE');
    await rejectsCall(() => t.batch([{ type: 'put', key: over, value: 'v' }]), 'BIRCH_KEY_TOO_LARGE');
    throws(() => t.get(over), 'BIRCH_KEY_TOO_LARGE');
    throws(() => t.ttl(over), 'BIRCH_KEY_TOO_LARGE');
    // The store's own keys have all 255 bytes.
    await db.put(over, 'store');
    expect(str(db.get(over))).toBe('store');
    expect([...t.keys()]).toEqual([fits]);
    expectCheck(db);
  });

  it('from the 128th table on, the prefix takes 2 bytes', async () => {
    const dir = tmp();
    let db = openStore(dir);
    const names = Array.from({ length: 130 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    for (const n of names) await db.table(n).put('k', n); // ids in this order
    expect(db.tables()).toEqual(names);
    const check = async (): Promise<void> => {
      await db.table(names[126]!).put(Buffer.alloc(254, 1), '1'); // id 127: one byte
      const late = db.table(names[128]!); // id 129: two bytes
      await late.put(Buffer.alloc(253, 1), '2');
      const err = await rejectsCall(() => late.put(Buffer.alloc(254, 1), 'v'), 'BIRCH_KEY_TOO_LARGE');
      expect(err.message).toMatch(/254/);
      expect(err.message).toMatch(/253/);
    };
    await check();
    // The ids stay with their tables across a reopen.
    await db.close();
    db = openStore(dir);
    await check();
    for (const n of names) expect(str(db.table(n).get('k'))).toBe(n);
    expectCheck(db);
  });

  it('refuses a bad key on a table that holds nothing yet as on one that does', async () => {
    const db = openStore();
    const written = db.table('written');
    await written.put('k', 'v');
    const fresh = db.table('fresh');
    const outcome = (f: () => unknown): string => {
      try {
        f();
        return 'no error';
      } catch (err) {
        return err instanceof BirchError ? err.code : String(err);
      }
    };
    const outcomes = (t: typeof written): Record<string, string> => ({
      'get(255 bytes)': outcome(() => t.get(Buffer.alloc(255))),
      'ttl(255 bytes)': outcome(() => t.ttl(Buffer.alloc(255))),
      'ttl(42)': outcome(() => t.ttl(42 as never)),
    });
    const want = { 'get(255 bytes)': 'BIRCH_KEY_TOO_LARGE', 'ttl(255 bytes)': 'BIRCH_KEY_TOO_LARGE', 'ttl(42)': 'BIRCH_BAD_ARGUMENT' };
    expect(outcomes(written)).toEqual(want);
    expect(outcomes(fresh)).toEqual(want);
  });

  it('counts the encoded size of a tuple key against what the table leaves', async () => {
    const db = openStore();
    const t = db.table('t', { keyEncoding: 'tuple' });
    // A tuple of one string of n bytes encodes to n + 2 bytes (type code, terminator).
    await t.put(['x'.repeat(252)], 'fits'); // 254
    expect(str(t.get(['x'.repeat(252)]))).toBe('fits');
    const err = await rejectsCall(() => t.put(['x'.repeat(253)], 'v'), 'BIRCH_KEY_TOO_LARGE');
    expect(err.message).toMatch(/255/);
  });
});

describe('across close and reopen', () => {
  it('keeps the tables, their keys and their ids: a new table does not see an old one', async () => {
    const dir = tmp();
    let db = openStore(dir);
    await Promise.all([db.table('a').put('k', 'a'), db.table('b').put('k', 'b'), db.put('k', 'store')]);
    await db.table('c').put('k', 'c', { ttl: 60_000 });
    await db.close();
    db = openStore(dir);
    expect(db.tables()).toEqual(['a', 'b', 'c']);
    expect(str(db.table('a').get('k'))).toBe('a');
    expect(str(db.table('b').get('k'))).toBe('b');
    expect(db.table('c').ttl('k')).toBeGreaterThan(0);
    // New tables after the reopen get ids of their own.
    for (const n of ['d', 'e', 'f']) expect(await db.table(n).add('k', n)).toBe(true);
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) expect(pairs(db.table(n))).toEqual([['k', n]]);
    await db.close();
    db = openStore(dir);
    expect(db.tables()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) expect(pairs(db.table(n))).toEqual([['k', n]]);
    expect(str(db.get('k'))).toBe('store');
    expectCheck(db);
  });

  it('a table created and dropped before close gives its id to nobody after reopen', async () => {
    const dir = tmp();
    let db = openStore(dir);
    await db.table('first').put('secret', 'old');
    expect(await db.dropTable('first')).toBe(true);
    await db.close();
    db = openStore(dir);
    // Whatever ids these get, none may show the dropped table's keys.
    for (const n of ['first', 'second', 'third']) {
      const t = db.table(n);
      expect(t.get('secret')).toBeUndefined();
      await t.put('mine', n);
      expect(t.get('secret')).toBeUndefined();
      expect(pairs(t)).toEqual([['mine', n]]);
    }
    expectCheck(db);
  });

  it('tables with encodings read back after reopen when opened with the same encodings', async () => {
    const dir = tmp();
    let db = openAs(dir);
    await db.table('users', { keyEncoding: 'tuple', valueEncoding: 'json' }).put(['alice', 1], { name: 'Alice' });
    await db.close();
    db = open(dir, { sync: false });
    const users = db.table<[string, number], { name: string }>('users', { keyEncoding: 'tuple', valueEncoding: 'json' });
    expect(users.get(['alice', 1])).toEqual({ name: 'Alice' });
    expect([...users.range({ prefix: ['alice'] })]).toEqual([[['alice', 1], { name: 'Alice' }]]);
    await db.close();
  });
});

describe('typed tables', () => {
  it('db.table<[string, number], User>(...) round-trips typed keys and values', async () => {
    interface User {
      name: string;
      age: number;
      tags: string[];
    }
    const db: Store = openStore();
    const users = db.table<[string, number], User>('users', { keyEncoding: 'tuple', valueEncoding: 'json' });
    await users.put(['alice', 1], { name: 'Alice', age: 30, tags: ['a'] });
    await users.put(['alice', 2], { name: 'Alice II', age: 3, tags: [] });
    await users.put(['bob', 1], { name: 'Bob', age: 40, tags: ['b', 'c'] });
    const got: User | undefined = users.get(['alice', 2]);
    expect(got?.name).toBe('Alice II');
    const names: string[] = [];
    for (const [[who, n], user] of users.range({ prefix: ['alice'] })) names.push(`${who}/${n}/${user.name}`);
    expect(names).toEqual(['alice/1/Alice', 'alice/2/Alice II']);
    expect([...users.keys({ gt: ['alice'], lt: ['bob', 2] })]).toEqual([
      ['alice', 1],
      ['alice', 2],
      ['bob', 1],
    ]);
    expect(await users.cas(['bob', 1], { name: 'Bob', age: 40, tags: ['b', 'c'] }, { name: 'Bob', age: 41, tags: [] })).toBe(true);
    expect(users.get(['bob', 1])?.age).toBe(41);
  });
});

describe("a table's own batch", () => {
  it('refuses an operation that names a table, and applies nothing', async () => {
    const db = openStore();
    const t = db.table('t');
    const other = db.table('other');
    const err = await t.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', table: 'other', key: 'b', value: '2' } as never]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BirchError);
    expect((err as BirchError).code).toBe('BIRCH_BAD_ARGUMENT');
    expect((err as BirchError).message).toMatch(/batch operation 1 names a table/);
    expect(t.get('a')).toBeUndefined();
    expect(other.get('b')).toBeUndefined();
    expect(db.tables()).toEqual([]);
  });
});
