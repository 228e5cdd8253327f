/**
 * Consistency of the public API: writes become visible when (and only when)
 * their promise resolves, batches are all-or-nothing to readers, operations
 * apply in the order they were issued, conditional operations report what
 * they did, and group commit really groups.
 */
import { describe, expect, it, vi } from 'vitest';
import { type BatchOp } from '../../src/index.js';
import { expectCheck, openStore, tmp, turn } from './util.js';

const str = (x: Buffer | undefined): string | undefined => x?.toString();

describe('visibility', () => {
  it('a write is invisible until its promise resolves, and visible once it has', async () => {
    const db = openStore();
    await db.put('k', 'old');

    const p = db.put('k', 'new');
    expect(str(db.get('k'))).toBe('old');
    expect([...db.range()].map(([, v]) => v.toString())).toEqual(['old']);
    await p;
    expect(str(db.get('k'))).toBe('new');

    const pd = db.delete('k');
    expect(str(db.get('k'))).toBe('new');
    expect(await pd).toBe(true);
    expect(db.get('k')).toBeUndefined();

    const pa = db.add('k', 'added');
    expect(db.get('k')).toBeUndefined();
    expect(await pa).toBe(true);
    expect(str(db.get('k'))).toBe('added');

    const pm = db.modify('k', 'modified');
    expect(str(db.get('k'))).toBe('added');
    expect(await pm).toBe(true);
    expect(str(db.get('k'))).toBe('modified');

    const pc = db.cas('k', 'modified', 'swapped');
    expect(str(db.get('k'))).toBe('modified');
    expect(await pc).toBe(true);
    expect(str(db.get('k'))).toBe('swapped');

    const pcd = db.cad('k', 'swapped');
    expect(str(db.get('k'))).toBe('swapped');
    expect(await pcd).toBe(true);
    expect(db.get('k')).toBeUndefined();

    const pb = db.batch([
      { type: 'put', key: 'x', value: '1' },
      { type: 'put', key: 'y', value: '2' },
    ]);
    expect(db.get('x')).toBeUndefined();
    expect([...db.keys()]).toEqual([]);
    await pb;
    expect(str(db.get('x'))).toBe('1');
    expect(str(db.get('y'))).toBe('2');
    expectCheck(db);
  });

  it('a write is visible from inside its own then-callback, and to every later read', async () => {
    const db = openStore();
    const seen: (string | undefined)[] = [];
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      ps.push(db.put(`k${i}`, `v${i}`).then(() => void seen.push(str(db.get(`k${i}`)))));
      expect(db.get(`k${i}`)).toBeUndefined();
    }
    await Promise.all(ps);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
    expectCheck(db);
  });

  it('readers never see part of a batch, however long the batch is in flight', async () => {
    const db = openStore(tmp(), { sync: true, segmentSize: 256 * 1024 });
    const n = 4000;
    const value = (gen: number): Buffer => Buffer.alloc(200, 0x41 + gen);
    const ops = (gen: number): BatchOp[] =>
      Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: `key${String(i).padStart(5, '0')}`, value: value(gen) }));
    const probes = ['key00000', 'key01999', 'key03999'];
    const observed = new Set<string>();
    for (let gen = 0; gen < 3; gen++) {
      let done = false;
      const p = db.batch(ops(gen)).then(() => {
        done = true;
      });
      while (!done) {
        const vals = probes.map((k) => db.get(k)?.[0]);
        // All probes agree: every key has the old generation or every key the new.
        expect(new Set(vals).size).toBe(1);
        const count = [...db.keys({ prefix: 'key' })].length;
        expect(count === 0 ? gen === 0 : count === n).toBe(true);
        observed.add(`${gen}:${String(vals[0])}`);
        await turn();
      }
      await p;
      for (const k of probes) expect(db.get(k)?.[0]).toBe(0x41 + gen);
      expect(db.stats().keys).toBe(n);
    }
    // The polls did run while each batch was pending, and saw only the state before it.
    expect(observed.has('0:undefined')).toBe(true);
    expect(observed.has(`1:${0x41}`)).toBe(true);
    expect(observed.has(`2:${0x42}`)).toBe(true);
    expectCheck(db);
  });

  it('many concurrent batches each set every key: every read sees one batch whole', async () => {
    const db = openStore(tmp(), { sync: true });
    const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    const ps: Promise<void>[] = [];
    let stop = false;
    const reader = (async (): Promise<number> => {
      let reads = 0;
      while (!stop) {
        const vals = new Set([...db.range()].map(([, v]) => v.toString()));
        expect(vals.size).toBeLessThanOrEqual(1);
        const snap = db.snapshot();
        const sv = new Set(keys.map((k) => str(snap.get(k))));
        expect(sv.size).toBe(1);
        snap.release();
        reads++;
        await turn();
      }
      return reads;
    })();
    for (let i = 0; i < 60; i++) {
      ps.push(db.batch(keys.map((k) => ({ type: 'put', key: k, value: `gen${i}` }))));
      if (i % 7 === 0) await turn();
    }
    await Promise.all(ps);
    stop = true;
    expect(await reader).toBeGreaterThan(1);
    expect(new Set([...db.range()].map(([, v]) => v.toString()))).toEqual(new Set(['gen59']));
    expectCheck(db);
  });

  it('a write that resolved is seen after reopen', async () => {
    const dir = tmp();
    const db = openStore(dir, { sync: true });
    await db.put('a', '1');
    await db.batch([
      { type: 'put', key: 'b', value: '2' },
      { type: 'del', key: 'a' },
    ]);
    expect(await db.add('c', '3')).toBe(true);
    await db.close();
    const db2 = openStore(dir);
    expect([...db2.range()].map(([k, v]) => `${k.toString()}=${v.toString()}`)).toEqual(['b=2', 'c=3']);
    expectCheck(db2);
  });
});

describe('issue order', () => {
  it('operations issued without awaiting apply in the order issued', async () => {
    const db = openStore();
    const r = await Promise.all([
      db.put('a', '1'),
      db.delete('a'),
      db.put('a', '2'),
      db.add('b', 'first'),
      db.add('b', 'second'),
      db.modify('c', 'nope'),
      db.add('c', 'c1'),
      db.modify('c', 'c2'),
      db.delete('d'),
      db.put('d', 'd1'),
      db.delete('d'),
      db.delete('d'),
    ]);
    expect(r).toEqual([undefined, true, undefined, true, false, false, true, true, false, undefined, true, false]);
    expect(str(db.get('a'))).toBe('2');
    expect(str(db.get('b'))).toBe('first');
    expect(str(db.get('c'))).toBe('c2');
    expect(db.get('d')).toBeUndefined();
    expectCheck(db);
  });

  it('cas and cad chains see the effect of the operations issued before them', async () => {
    const db = openStore();
    await db.put('k', 'v0');
    const r = await Promise.all([
      db.cas('k', 'v0', 'v1'),
      db.cas('k', 'v0', 'v2'), // stale expectation: fails
      db.cas('k', 'v1', 'v2'),
      db.cad('k', 'v1'), // stale: fails
      db.cas('k', 'v2', ''),
      db.cas('k', '', 'v3'),
      db.cad('k', 'v3'),
      db.cas('k', 'v3', 'v4'), // gone: fails
      db.cad('k', 'v3'), // gone: fails
      db.add('k', 'v5'),
    ]);
    expect(r).toEqual([true, false, true, false, true, true, true, false, false, true]);
    expect(str(db.get('k'))).toBe('v5');
    expectCheck(db);
  });

  it('order holds across commits: writes issued while a commit is in flight follow it', async () => {
    const db = openStore(tmp(), { sync: true });
    const ps: Promise<unknown>[] = [];
    const commits0 = db.stats().commits;
    for (let i = 0; i < 600; i++) {
      ps.push(db.put('counter', String(i)));
      ps.push(db.put(`k${i % 10}`, String(i)));
      if (i % 50 === 0) ps.push(db.delete(`k${i % 10}`));
      if (i % 37 === 0) await turn();
      // A pause longer than a batch waits for requests that keep arriving
      // (2 ms), so the writes span several commits.
      if (i % 150 === 149) await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(ps);
    expect(db.stats().commits - commits0).toBeGreaterThan(1); // really several commits
    expect(str(db.get('counter'))).toBe('599');
    for (let j = 0; j < 10; j++) expect(str(db.get(`k${j}`))).toBe(String(590 + j));
    expectCheck(db);
  });

  it('a batch applies its operations in order, and orders with single operations around it', async () => {
    const db = openStore();
    const r = await Promise.all([
      db.put('x', 'before'),
      db.batch([
        { type: 'put', key: 'x', value: 'in1' },
        { type: 'del', key: 'x' },
        { type: 'put', key: 'y', value: 'y1' },
        { type: 'del', key: 'z' },
        { type: 'put', key: 'y', value: 'y2' },
        { type: 'del', key: 'w' },
        { type: 'put', key: 'w', value: 'w1' },
      ]),
      db.cas('y', 'y2', 'y3'),
      db.add('x', 'after'),
    ]);
    expect(r).toEqual([undefined, undefined, true, true]);
    expect(str(db.get('x'))).toBe('after');
    expect(str(db.get('y'))).toBe('y3');
    expect(str(db.get('w'))).toBe('w1');
    expect(db.get('z')).toBeUndefined();
    expect(db.stats().keys).toBe(3);
    expectCheck(db);
  });
});

describe('results of conditional operations', () => {
  it('add, modify, cas, cad and delete on present and missing keys', async () => {
    const db = openStore();
    // Missing key.
    expect(await db.modify('m', 'x')).toBe(false);
    expect(await db.cas('m', 'x', 'y')).toBe(false);
    expect(await db.cad('m', 'x')).toBe(false);
    expect(await db.delete('m')).toBe(false);
    expect(db.get('m')).toBeUndefined();
    expect(db.stats().keys).toBe(0);
    expect(await db.add('m', 'x')).toBe(true);
    expect(str(db.get('m'))).toBe('x');
    // Present key.
    expect(await db.add('m', 'other')).toBe(false);
    expect(str(db.get('m'))).toBe('x');
    expect(await db.modify('m', 'x2')).toBe(true);
    expect(await db.cas('m', 'x', 'bad')).toBe(false);
    expect(str(db.get('m'))).toBe('x2');
    expect(await db.cas('m', 'x2', 'x3')).toBe(true);
    expect(await db.cas('m', 'x3', 'x3')).toBe(true); // same value: still a match
    expect(await db.cad('m', 'x2')).toBe(false);
    expect(str(db.get('m'))).toBe('x3');
    // Prefixes and extensions of the value do not match.
    expect(await db.cas('m', 'x', 'p')).toBe(false);
    expect(await db.cas('m', 'x33', 'p')).toBe(false);
    expect(await db.cad('m', 'x3\u0000')).toBe(false);
    expect(await db.cad('m', 'x3')).toBe(true);
    expect(db.get('m')).toBeUndefined();
    expect(await db.delete('m')).toBe(false);
    // Failed conditional operations write nothing.
    const before = db.stats();
    expect(await db.modify('m', 'x')).toBe(false);
    expect(await db.cad('m', 'x')).toBe(false);
    expect(await db.delete('m')).toBe(false);
    const after = db.stats();
    expect(after.commits).toBe(before.commits);
    expect(after.pagesOnDisk).toBe(before.pagesOnDisk);
    expect(after.requests).toBe(before.requests + 3);
    expectCheck(db);
  });
});

describe('group commit', () => {
  it('1000 puts issued at once share very few commits', async () => {
    const db = openStore(tmp(), { sync: true });
    await db.put('warm', 'up');
    const s0 = db.stats();
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) ps.push(db.put(`k${i}`, `v${i}`));
    await Promise.all(ps);
    const s1 = db.stats();
    expect(s1.commits - s0.commits).toBeGreaterThanOrEqual(1);
    expect(s1.commits - s0.commits).toBeLessThanOrEqual(3);
    expect(s1.requests - s0.requests).toBe(1000);
    expect(s1.averageBatch).toBeGreaterThan(100);
    expect(s1.keys).toBe(1001);
    expectCheck(db);
  });

  it('a lone put resolves promptly, with no timer involved', async () => {
    const db = openStore(tmp(), { sync: true });
    // With setTimeout/setInterval frozen, a commit that waited on a timer would never run.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] });
    try {
      let done = false;
      const p = db.put('lone', 'x').then(() => {
        done = true;
      });
      const t0 = performance.now();
      while (!done && performance.now() - t0 < 5000) await turn();
      expect(done).toBe(true);
      await p;
    } finally {
      vi.useRealTimers();
    }
    expect(str(db.get('lone'))).toBe('x');
    const t0 = performance.now();
    await db.put('lone2', 'y');
    expect(performance.now() - t0).toBeLessThan(1000);
    expectCheck(db);
  });

  it('writes issued in separate turns while a commit is in flight form the next commit together', async () => {
    const db = openStore(tmp(), { sync: true });
    const ps: Promise<void>[] = [];
    const s0 = db.stats();
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < 50; i++) ps.push(db.put(`t${t}-${i}`, 'v'));
      await turn();
    }
    await Promise.all(ps);
    const s1 = db.stats();
    expect(s1.requests - s0.requests).toBe(1000);
    // One commit per request would be 1000; how many turns join one commit depends on fsync speed.
    expect(s1.commits - s0.commits).toBeLessThanOrEqual(21);
    expect(s1.keys).toBe(1000);
    expectCheck(db);
  });
});
