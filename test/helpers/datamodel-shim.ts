/**
 * A stand-in for issue 13's Store calls (put with ttl, expire, persist, ttl,
 * incr, append), layered over a real Store for tests only, so that the
 * server's expiry, counter and append commands can be tested before the
 * store has them. Not a model of issue 13's durability: lifetimes live in
 * memory here; incr and append are serialized among themselves.
 *
 * The server finds these calls at run time, exactly as it will find the
 * real ones.
 */
import { BirchError, type BatchOp, type Bytes, type RangeOptions, type Store } from '../../src/index.js';

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

export function withDataModel(store: Store, now: () => number = Date.now): Store {
  const deadlines = new Map<string, number>();
  const k = (key: Bytes): string => (typeof key === 'string' ? Buffer.from(key) : Buffer.from(key)).toString('latin1');
  const live = (key: Bytes): boolean => {
    const d = deadlines.get(k(key));
    return d === undefined || d > now();
  };
  const get = (key: Bytes): Buffer | undefined => {
    const v = store.get(key);
    return v !== undefined && live(key) ? v : undefined;
  };
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = chain.then(f);
    chain = p.catch(() => undefined);
    return p;
  };
  function* filtered<T>(it: Iterable<T>, keyOf: (x: T) => Buffer): Generator<T> {
    for (const x of it) if (live(keyOf(x))) yield x;
  }
  const shim = {
    get,
    put(key: Bytes, value: Bytes, opts?: { ttl?: number }): Promise<void> {
      return store.put(key, value).then(() => {
        if (opts?.ttl !== undefined) deadlines.set(k(key), now() + opts.ttl);
        else deadlines.delete(k(key));
      });
    },
    add(key: Bytes, value: Bytes): Promise<boolean> {
      if (store.get(key) !== undefined && !live(key)) return shim.put(key, value).then(() => true);
      return store.add(key, value).then((done) => {
        if (done) deadlines.delete(k(key));
        return done;
      });
    },
    modify(key: Bytes, value: Bytes): Promise<boolean> {
      if (!live(key)) return Promise.resolve(false);
      return store.modify(key, value).then((done) => {
        if (done) deadlines.delete(k(key));
        return done;
      });
    },
    delete(key: Bytes): Promise<boolean> {
      const wasLive = live(key);
      return store.delete(key).then((done) => {
        deadlines.delete(k(key));
        return done && wasLive;
      });
    },
    batch(ops: (BatchOp & { ttl?: number })[]): Promise<void> {
      return store.batch(ops.map((o) => (o.type === 'put' ? { type: 'put', key: o.key, value: o.value } : o))).then(() => {
        for (const o of ops) {
          if (o.type === 'put' && o.ttl !== undefined) deadlines.set(k(o.key), now() + o.ttl);
          else deadlines.delete(k(o.key));
        }
      });
    },
    range(opts?: RangeOptions): IterableIterator<[Buffer, Buffer]> {
      return filtered(store.range(opts), (x) => x[0]) as IterableIterator<[Buffer, Buffer]>;
    },
    keys(opts?: RangeOptions): IterableIterator<Buffer> {
      return filtered(store.keys(opts), (x) => x) as IterableIterator<Buffer>;
    },
    stats: () => store.stats(),
    check: () => store.check(),
    close: () => store.close(),
    snapshot: () => store.snapshot(),
    expire(key: Bytes, ms: number): Promise<boolean> {
      const v = get(key);
      if (v === undefined) return Promise.resolve(false);
      if (ms <= 0) return shim.delete(key).then(() => true);
      return store.put(key, v).then(() => {
        deadlines.set(k(key), now() + ms);
        return true;
      });
    },
    persist(key: Bytes): Promise<boolean> {
      if (get(key) === undefined || !deadlines.has(k(key))) return Promise.resolve(false);
      return store.put(key, get(key)!).then(() => deadlines.delete(k(key)));
    },
    ttl(key: Bytes): number | undefined {
      if (get(key) === undefined) return undefined;
      const d = deadlines.get(k(key));
      return d === undefined ? Infinity : d - now();
    },
    incr(key: Bytes, by: number | bigint = 1): Promise<number | bigint> {
      return serial(async () => {
        const v = get(key);
        const s = v === undefined ? '0' : v.toString('latin1');
        if (!/^(0|-?[1-9][0-9]*)$/.test(s)) throw new BirchError('BIRCH_BAD_ARGUMENT', `value of ${k(key)} is not an integer`);
        const next = BigInt(s) + BigInt(by);
        if (next > I64_MAX || next < I64_MIN) throw new BirchError('BIRCH_BAD_ARGUMENT', 'increment would overflow');
        const d = deadlines.get(k(key));
        await store.put(key, next.toString());
        if (d !== undefined && v !== undefined) deadlines.set(k(key), d);
        return next >= BigInt(Number.MIN_SAFE_INTEGER) && next <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(next) : next;
      });
    },
    append(key: Bytes, bytes: Bytes): Promise<number> {
      return serial(async () => {
        const v = get(key) ?? Buffer.alloc(0);
        const next = Buffer.concat([v, typeof bytes === 'string' ? Buffer.from(bytes) : bytes]);
        if (next.length > 255) throw new BirchError('BIRCH_VALUE_TOO_LARGE', `value of ${next.length} bytes exceeds 255`);
        await store.put(key, next);
        return next.length;
      });
    },
  };
  return shim as unknown as Store;
}
