/**
 * The data model against a plain in-memory model (issue 13), through the
 * public API: a seeded random sequence of operations over the store's own
 * keys and three tables, each keyspace with other encodings, including puts
 * with lifetimes, expire, persist, incr, append, conditional writes,
 * deletes, dropTable, batches across tables (some refused whole), snapshots
 * held across later writes, and close/reopen every so often; after every
 * step every keyspace is read back whole (get, ttl, range both ways, keys)
 * and compared with the model, and tables() with the tables the model holds
 * keys in. db.check() must stay ok; at the end, once the background purge
 * has run, stats().keys is the model's count.
 *
 * Time: lifetimes are either long (an hour: they never run out during the
 * test, and ttl() must be in (0, 1 h]) or short (a few ms); a step that gave
 * short lifetimes waits, before the model is checked, until every one of
 * them has certainly passed (the deadline is at most the clock after the
 * call plus the ttl), and keys with a short lifetime are not touched again
 * in that step. So no assertion depends on timing.
 */
import { describe, expect, it } from 'vitest';
import { BirchError, encodeTuple, open, type KeyEncoding, type TupleItem, type ValueEncoding } from '../../src/index.js';
import { eventually, until } from './datamodel-util.js';
import { Rng } from './encoding-helpers.js';
import { tmp } from './util.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

const LONG = 3_600_000;
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

interface SpaceDef {
  name: string;
  /** The table's name; undefined for the store's own keys. */
  table: string | undefined;
  ke: KeyEncoding;
  ve: ValueEncoding;
  /** Whether incr / append may be used here (their raw digits/bytes must read back right). */
  incr: boolean;
  append: boolean;
  /** Batch operations name the table (else pass the handle). */
  byName: boolean;
  keys: unknown[];
  values: unknown[];
  big: unknown;
}

const N_KEYS = 20;

const SPACES: SpaceDef[] = [
  {
    name: 'store',
    table: undefined,
    ke: 'utf8',
    ve: 'binary',
    incr: true,
    append: true,
    byName: false,
    keys: Array.from({ length: N_KEYS }, (_, i) => (i === 0 ? '' : i === 1 ? 'é😀' : `k${String(i).padStart(2, '0')}`)),
    values: [Buffer.alloc(0), Buffer.from('0'), Buffer.from('12'), Buffer.from('-7'), Buffer.from('9223372036854775806'), Buffer.from('-9223372036854775807'), Buffer.of(0xff, 0), Buffer.from('1.5'), Buffer.alloc(200, 0x61)],
    big: Buffer.alloc(256),
  },
  {
    name: 'bin',
    table: 'bin',
    ke: 'binary',
    ve: 'utf8',
    incr: true,
    append: true,
    byName: true,
    keys: Array.from({ length: N_KEYS }, (_, i) => (i === 0 ? Buffer.alloc(0) : i === 1 ? Buffer.of(0xff) : Buffer.of(i % 4, i, 0))),
    values: ['', 'x', '12', '-3', 'hello', 'é', '9223372036854775807', 'x'.repeat(250)],
    big: 'x'.repeat(256),
  },
  {
    name: 'tup',
    table: 'tup',
    ke: 'tuple',
    ve: 'json',
    incr: true,
    append: false,
    byName: false,
    keys: Array.from({ length: N_KEYS }, (_, i) => (i === 0 ? [] : i % 7 === 0 ? [['a', 'b', 'c'][i % 3]!] : [['a', 'b', 'c'][i % 3]!, i - 10])),
    values: [0, 5, -3, 1.5, 'str', null, true, [1, 2], { a: 1 }, { b: [null, 'x'] }],
    big: 'x'.repeat(300),
  },
  {
    name: 'pack',
    table: 'pack',
    ke: 'utf8',
    ve: 'msgpack',
    incr: false,
    append: false,
    byName: false,
    keys: Array.from({ length: N_KEYS }, (_, i) => `p${i}`),
    values: [1, -1, 2 ** 40, 0.5, 'str', null, false, [1, 'a'], { x: { y: 2 } }, 2n ** 62n, new Uint8Array([1, 2])],
    big: 'x'.repeat(300),
  },
];

type Life = 'none' | 'long' | 'short';

interface Entry {
  /** The value as read back (decoded). */
  value: unknown;
  /** Its stored bytes, where incr/append/cas need them; otherwise a canonical form to compare values. */
  canon: string;
  raw: Buffer | undefined;
  life: Life;
}

/** How a value of this space is stored and read back. */
function stored(s: SpaceDef, v: unknown): { value: unknown; canon: string; raw: Buffer | undefined } {
  switch (s.ve) {
    case 'binary': {
      const raw = Buffer.from(v as Buffer);
      return { value: raw, canon: raw.toString('hex'), raw };
    }
    case 'utf8': {
      const raw = Buffer.from(v as string, 'utf8');
      return { value: v, canon: raw.toString('hex'), raw };
    }
    case 'json': {
      const text = JSON.stringify(v);
      return { value: JSON.parse(text) as unknown, canon: Buffer.from(text).toString('hex'), raw: Buffer.from(text) };
    }
    case 'msgpack': {
      const canon = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString('hex')}` : x));
      return { value: v, canon, raw: undefined };
    }
  }
}

/** A value read from raw bytes this space's incr/append wrote. */
function fromRaw(s: SpaceDef, raw: Buffer): { value: unknown; canon: string; raw: Buffer } {
  const canon = raw.toString('hex');
  if (s.ve === 'binary') return { value: Buffer.from(raw), canon, raw };
  if (s.ve === 'utf8') return { value: raw.toString('utf8'), canon, raw };
  if (s.ve === 'json') return { value: JSON.parse(raw.toString('utf8')) as unknown, canon, raw };
  throw new Error('no raw writes in msgpack spaces');
}

/** The key's identity in the model: its encoded bytes, as hex (which also sorts like the store does). */
function keyId(s: SpaceDef, k: unknown): string {
  if (s.ke === 'tuple') return encodeTuple(k as TupleItem[]).toString('hex');
  return Buffer.from(k as string | Uint8Array).toString('hex');
}

function parseCounter(raw: Buffer): bigint | undefined {
  const t = raw.toString('latin1');
  if (!/^-?(0|[1-9][0-9]*)$/.test(t) || t.length > 20) return undefined;
  const n = BigInt(t);
  return n > I64_MAX || n < I64_MIN ? undefined : n;
}

const counterResult = (v: bigint): number | bigint => (v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v);

/** What an operation resolved with, or the code it was refused with. */
type Outcome = { ok: unknown } | { code: string };

class Model {
  readonly spaces = new Map<string, Map<string, Entry & { key: unknown }>>();
  /** Tables that may have a catalog entry (written to since their last drop): dropTable may say true. */
  readonly touched = new Set<string>();

  constructor() {
    for (const s of SPACES) this.spaces.set(s.name, new Map());
  }

  of(s: SpaceDef): Map<string, Entry & { key: unknown }> {
    return this.spaces.get(s.name)!;
  }

  clone(): Map<string, Map<string, Entry & { key: unknown }>> {
    return new Map([...this.spaces].map(([n, m]) => [n, new Map([...m].map(([k, e]) => [k, { ...e }]))]));
  }

  set(s: SpaceDef, key: unknown, v: { value: unknown; canon: string; raw: Buffer | undefined }, life: Life): void {
    this.of(s).set(keyId(s, key), { key, ...v, life });
  }

  expireShort(): void {
    for (const m of this.spaces.values()) for (const [id, e] of m) if (e.life === 'short') m.delete(id);
  }
}

interface Handles {
  db: Any;
  spaces: Map<string, Any>;
}

function openHandles(dir: string): Handles {
  const store = SPACES[0]!;
  const db = open(dir, { sync: false, keyEncoding: store.ke, valueEncoding: store.ve, segmentSize: 256 * 1024 }) as Any;
  const spaces = new Map<string, Any>();
  for (const s of SPACES) spaces.set(s.name, s.table === undefined ? db : db.table(s.table, { keyEncoding: s.ke, valueEncoding: s.ve }));
  return { db, spaces };
}

/** Every read of `r` (a store, table or snapshot reader) agrees with `m`. */
function expectSpace(r: Any, s: SpaceDef, m: Map<string, Entry & { key: unknown }>, where: string): void {
  const ids = [...m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')));
  const norm = (k: unknown): unknown => (s.ke === 'binary' ? Buffer.from(k as Uint8Array) : k);
  const want = ids.map((id) => [norm(m.get(id)!.key), m.get(id)!.value]);
  expect([...r.range()], `${where}: range of ${s.name}`).toEqual(want);
  expect([...r.range({ reverse: true })], `${where}: reverse range of ${s.name}`).toEqual([...want].reverse());
  expect([...r.keys()], `${where}: keys of ${s.name}`).toEqual(want.map((p) => p[0]));
  for (const k of s.keys) {
    const e = m.get(keyId(s, k));
    const label = `${where}: ${s.name} ${JSON.stringify(k)}`;
    if (e === undefined) {
      expect(r.get(k), label).toBeUndefined();
      expect(r.ttl(k), label).toBeUndefined();
    } else {
      expect(r.get(k), label).toEqual(e.value);
      const t = r.ttl(k);
      if (e.life === 'none') expect(t, label).toBe(Infinity);
      else {
        expect(t, label).toBeGreaterThan(0);
        expect(t, label).toBeLessThanOrEqual(LONG);
      }
    }
  }
}

function expectAll(h: Handles, model: Model, where: string): void {
  for (const s of SPACES) expectSpace(h.spaces.get(s.name), s, model.of(s), where);
  const listed = SPACES.filter((s) => s.table !== undefined && model.of(s).size > 0).map((s) => s.table!);
  expect(h.db.tables(), `${where}: tables()`).toEqual(listed.sort());
  // Expired keys and dropped tables' keys may still count until purged, live keys always do.
  const live = SPACES.reduce((n, s) => n + model.of(s).size, 0);
  expect(h.db.stats().keys, `${where}: stats().keys`).toBeGreaterThanOrEqual(live);
}

async function run(seed: number, steps: number): Promise<{ ops: number; drops: number; reopens: number; shorts: number; refused: number }> {
  const r = new Rng(seed);
  const dir = tmp();
  let h = openHandles(dir);
  const model = new Model();
  const stats = { ops: 0, drops: 0, reopens: 0, shorts: 0, refused: 0 };
  let held: { snap: Any; model: ReturnType<Model['clone']>; until: number } | undefined;

  try {
    for (let step = 0; step < steps; step++) {
      const where = `seed ${seed} step ${step}`;
      /** Keys given a short lifetime in this step: not touched again until it has passed. */
      const volatile = new Set<string>();
      /** The longest short lifetime given in this step (ms). */
      let shortest = 0;
      const pending: Array<{ p: Promise<unknown>; want: Outcome; what: string }> = [];
      const pickSpace = (): SpaceDef => r.pick(SPACES);
      const pickKey = (s: SpaceDef): unknown | undefined => {
        for (let tries = 0; tries < 5; tries++) {
          const k = r.pick(s.keys);
          if (!volatile.has(`${s.name}/${keyId(s, k)}`)) return k;
        }
        return undefined;
      };
      const life = (): { life: Life; ttl: number | undefined } => {
        const x = r.int(10);
        if (x < 6) return { life: 'none', ttl: undefined };
        if (x < 8) return { life: 'long', ttl: LONG };
        return { life: 'short', ttl: r.range(1, 15) };
      };
      const markShort = (s: SpaceDef, k: unknown, ttl: number): void => {
        volatile.add(`${s.name}/${keyId(s, k)}`);
        shortest = Math.max(shortest, ttl);
        stats.shorts++;
      };
      const touch = (s: SpaceDef): void => {
        if (s.table !== undefined) model.touched.add(s.table);
      };
      const issue = (what: string, f: () => Promise<unknown>, want: Outcome): void => {
        let p: Promise<unknown>;
        try {
          p = f();
        } catch (err) {
          p = Promise.reject(new Error(`${what} threw synchronously: ${String(err)}`));
        }
        pending.push({ p, want, what });
        stats.ops++;
      };

      const nOps = r.range(1, 8);
      for (let o = 0; o < nOps; o++) {
        const s = pickSpace();
        const t = h.spaces.get(s.name);
        const m = model.of(s);
        const kind = r.int(100);
        if (kind < 2 && s.table !== undefined) {
          // dropTable
          const name = s.table;
          const live = m.size > 0;
          const maybe = model.touched.has(name);
          m.clear();
          model.touched.delete(name);
          for (const v of [...volatile]) if (v.startsWith(`${s.name}/`)) volatile.delete(v);
          stats.drops++;
          const p = h.db.dropTable(name);
          pending.push({ p, want: { ok: live ? true : maybe ? 'true or false' : false }, what: `dropTable ${name}` });
          continue;
        }
        if (kind < 14) {
          // A batch across keyspaces, sometimes with one op too large (refused whole).
          const ops: Any[] = [];
          const effects: Array<() => void> = [];
          const n = r.range(1, 6);
          const badAt = r.bool(0.15) ? r.int(n) : -1;
          let hasBad = false;
          for (let i = 0; i < n; i++) {
            const bs = pickSpace();
            const k = pickKey(bs);
            if (k === undefined) continue;
            const tableField = bs.table === undefined ? {} : { table: bs.byName ? bs.table : h.spaces.get(bs.name) };
            touch(bs);
            if (i === badAt) {
              ops.push({ type: 'put', key: k, value: bs.big, ...tableField });
              hasBad = true;
              continue;
            }
            if (r.bool(0.25)) {
              ops.push({ type: 'del', key: k, ...tableField });
              effects.push(() => model.of(bs).delete(keyId(bs, k)));
            } else {
              const v = r.pick(bs.values);
              const l = life();
              ops.push({ type: 'put', key: k, value: v, ...tableField, ...(l.ttl !== undefined && { ttl: l.ttl }) });
              effects.push(() => {
                model.set(bs, k, stored(bs, v), l.life);
                if (l.life === 'short') markShort(bs, k, l.ttl!);
              });
            }
          }
          if (ops.length === 0) continue;
          if (hasBad) {
            stats.refused++;
            issue('batch (one op too large)', () => h.db.batch(ops), { code: 'BIRCH_VALUE_TOO_LARGE' });
          } else {
            for (const e of effects) e();
            issue('batch', () => h.db.batch(ops), { ok: undefined });
          }
          continue;
        }
        const k = pickKey(s);
        if (k === undefined) continue;
        const id = keyId(s, k);
        const cur = m.get(id);
        const label = `${s.name} ${JSON.stringify(k)}`;
        touch(s);
        if (kind < 34) {
          const v = r.pick(s.values);
          const l = life();
          const opts = l.ttl === undefined ? undefined : { ttl: l.ttl };
          model.set(s, k, stored(s, v), l.life);
          if (l.life === 'short') markShort(s, k, l.ttl!);
          issue(`put ${label}`, () => (opts === undefined ? t.put(k, v) : t.put(k, v, opts)), { ok: undefined });
        } else if (kind < 40) {
          m.delete(id);
          issue(`delete ${label}`, () => t.delete(k), { ok: cur !== undefined });
        } else if (kind < 46) {
          const v = r.pick(s.values);
          const l = life();
          if (cur === undefined) {
            model.set(s, k, stored(s, v), l.life);
            if (l.life === 'short') markShort(s, k, l.ttl!);
          }
          issue(`add ${label}`, () => t.add(k, v, l.ttl === undefined ? undefined : { ttl: l.ttl }), { ok: cur === undefined });
        } else if (kind < 52) {
          const v = r.pick(s.values);
          const l = life();
          if (cur !== undefined) {
            model.set(s, k, stored(s, v), l.life);
            if (l.life === 'short') markShort(s, k, l.ttl!);
          }
          issue(`modify ${label}`, () => t.modify(k, v, l.ttl === undefined ? undefined : { ttl: l.ttl }), { ok: cur !== undefined });
        } else if (kind < 58) {
          // cas: half the time with the current value as expected
          const v = r.pick(s.values);
          const exp = cur !== undefined && r.bool(0.6) ? cur.value : r.pick(s.values);
          const hit = cur !== undefined && stored(s, exp).canon === cur.canon;
          const l = life();
          if (hit) {
            model.set(s, k, stored(s, v), l.life);
            if (l.life === 'short') markShort(s, k, l.ttl!);
          }
          issue(`cas ${label}`, () => t.cas(k, exp, v, l.ttl === undefined ? undefined : { ttl: l.ttl }), { ok: hit });
        } else if (kind < 62) {
          const exp = cur !== undefined && r.bool(0.6) ? cur.value : r.pick(s.values);
          const hit = cur !== undefined && stored(s, exp).canon === cur.canon;
          if (hit) m.delete(id);
          issue(`cad ${label}`, () => t.cad(k, exp), { ok: hit });
        } else if (kind < 70) {
          const x = r.int(10);
          const ms = x < 3 ? r.pick([0, -1, -1000]) : x < 8 ? LONG : r.range(1, 15);
          if (cur !== undefined) {
            if (ms <= 0) m.delete(id);
            else if (ms === LONG) cur.life = 'long';
            else {
              cur.life = 'short';
              markShort(s, k, ms);
            }
          }
          issue(`expire ${label} ${ms}`, () => t.expire(k, ms), { ok: cur !== undefined });
        } else if (kind < 75) {
          const had = cur !== undefined && cur.life !== 'none';
          if (had) cur.life = 'none';
          issue(`persist ${label}`, () => t.persist(k), { ok: had });
        } else if (kind < 87 && s.incr) {
          const by = s.ve === 'json' ? r.range(-20, 20) : r.pick<number | bigint>([1, -1, 7, -100, 0, 2n ** 62n, -(2n ** 62n), 4611686018427387904n]);
          let want: Outcome;
          const curRaw = cur === undefined ? undefined : cur.raw!;
          const n = curRaw === undefined ? 0n : parseCounter(curRaw);
          if (n === undefined) want = { code: 'BIRCH_NOT_AN_INTEGER' };
          else {
            const next = n + BigInt(by);
            want = next > I64_MAX || next < I64_MIN ? { code: 'BIRCH_NOT_AN_INTEGER' } : { ok: counterResult(next) };
            if ('ok' in want) model.set(s, k, fromRaw(s, Buffer.from(next.toString(), 'latin1')), cur?.life ?? 'none');
          }
          issue(`incr ${label} by ${by}`, () => t.incr(k, by), want);
        } else if (kind < 95 && s.append) {
          const add = r.pick(['a', '-', '1', '0', 'xyz', 'y'.repeat(60)]);
          const curRaw = cur === undefined ? Buffer.alloc(0) : cur.raw!;
          const len = curRaw.length + add.length;
          if (len > 255) {
            issue(`append ${label}`, () => t.append(k, add), { code: 'BIRCH_VALUE_TOO_LARGE' });
          } else {
            model.set(s, k, fromRaw(s, Buffer.concat([curRaw, Buffer.from(add)])), cur?.life ?? 'none');
            issue(`append ${label}`, () => t.append(k, add), { ok: len });
          }
        } else {
          // Refused before anything is queued: nothing changes.
          if (r.bool()) issue(`put ${label} with ttl 0`, () => t.put(k, r.pick(s.values), { ttl: 0 }), { code: 'BIRCH_BAD_ARGUMENT' });
          else issue(`put ${label} too large`, () => t.put(k, s.big), { code: 'BIRCH_VALUE_TOO_LARGE' });
        }
      }

      // Every deadline of this step is at most the clock now plus the longest short ttl.
      const shortUntil = shortest > 0 ? Date.now() + shortest : 0;
      const settled = await Promise.allSettled(pending.map((x) => x.p));
      settled.forEach((res, i) => {
        const { want, what } = pending[i]!;
        const label = `${where}: ${what}`;
        if ('code' in want) {
          expect(res.status, label).toBe('rejected');
          const err = (res as PromiseRejectedResult).reason as unknown;
          expect(err, label).toBeInstanceOf(BirchError);
          expect((err as BirchError).code, `${label}: ${(err as Error).message}`).toBe(want.code);
        } else {
          if (res.status === 'rejected') throw new Error(`${label} was refused: ${String((res as PromiseRejectedResult).reason)}`);
          const got = (res as PromiseFulfilledResult<unknown>).value;
          if (want.ok === 'true or false') expect(typeof got, label).toBe('boolean');
          else expect(got, label).toEqual(want.ok);
        }
      });

      if (shortUntil > 0) {
        await until(shortUntil);
        model.expireShort();
      }
      expectAll(h, model, where);

      if (held !== undefined) {
        for (const s of SPACES) {
          const reader = s.table === undefined ? held.snap : held.snap.table(s.table, { keyEncoding: s.ke, valueEncoding: s.ve });
          expectSpace(reader, s, held.model.get(s.name)!, `${where}: snapshot`);
        }
        if (step >= held.until) {
          held.snap.release();
          held = undefined;
        }
      } else if (r.bool(0.1)) {
        held = { snap: h.db.snapshot(), model: model.clone(), until: step + r.range(1, 8) };
      }

      if (step % 20 === 19) {
        const c = h.db.check();
        expect(c.problems, where).toEqual([]);
        expect(c.ok).toBe(true);
      }
      if (r.bool(0.05)) {
        held?.snap.release();
        held = undefined;
        await h.db.close();
        h = openHandles(dir);
        stats.reopens++;
        expectAll(h, model, `${where}: after reopen`);
      }
    }
    held?.snap.release();
    const c = h.db.check();
    expect(c.problems).toEqual([]);
    expect(c.ok).toBe(true);
    await h.db.close();
    // And once more from disk.
    h = openHandles(dir);
    expectAll(h, model, `seed ${seed}: final reopen`);
    // The purge deletes what expired and what dropped tables held: the count comes down to the model's.
    const total = [...model.spaces.values()].reduce((n, m) => n + m.size, 0);
    await eventually(() => h.db.stats().keys === total, `stats().keys comes down to ${total}`, 20_000);
    expectAll(h, model, `seed ${seed}: after the purge`);
  } finally {
    await h.db.close().catch(() => undefined);
  }
  return stats;
}

describe('the data model against a plain model', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: store keys and three tables, every encoding, ttl, incr, append, drops, batches, reopens`, async () => {
      const stats = await run(seed, 150);
      // The run exercised what it is about.
      expect(stats.ops).toBeGreaterThan(400);
      expect(stats.drops).toBeGreaterThan(3);
      expect(stats.shorts).toBeGreaterThan(20);
      expect(stats.refused).toBeGreaterThan(0);
      expect(stats.reopens).toBeGreaterThan(0);
    });
  }
});
