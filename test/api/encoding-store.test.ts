/**
 * The tuple layer through the public API as it is today: tuple keys packed
 * by the application into the store's binary keys, read back in tuple
 * order, and tupleRange() given straight to range().
 */
import { expect, it } from 'vitest';
import { decodeTuple, encodeTuple, tupleRange, type TupleItem } from '../../src/index.js';
import { compareTuples, normalize, relatedTuples, Rng } from './encoding-helpers.js';
import { expectCheck, openStore } from './util.js';

it('stores tuple keys in tuple order, and tupleRange selects a prefix', async () => {
  const db = openStore();
  const r = new Rng(101);
  const byHex = new Map<string, TupleItem[]>();
  for (const t of relatedTuples(r, 1500)) {
    const k = encodeTuple(t);
    if (k.length <= 255) byHex.set(k.toString('hex'), t);
  }
  await db.batch([...byHex.keys()].map((h) => ({ type: 'put' as const, key: Buffer.from(h, 'hex'), value: 'v' })));

  const read = [...db.keys()].map((k) => decodeTuple(k));
  const want = [...byHex.values()].sort(compareTuples).map(normalize);
  expect(read).toEqual(want);

  for (let i = 0; i < 40; i++) {
    const base = r.pick(want) as TupleItem[];
    const prefix = base.slice(0, r.int(base.length + 1));
    const got = [...db.keys(tupleRange(prefix))].map((k) => decodeTuple(k));
    expect(got).toEqual(want.filter((t) => (t as TupleItem[]).length > prefix.length && compareTuples((t as TupleItem[]).slice(0, prefix.length), prefix) === 0));
  }
  expectCheck(db);
  await db.close();
});
