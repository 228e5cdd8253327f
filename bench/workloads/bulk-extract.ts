/**
 * bulk-extract: a store of N pairs; RANGE over everything, start to end, over
 * and over. One range read is one sequential stream, so it runs one request
 * at a time; a step of the iterator is one pair. Figure: pairs/s.
 *
 * Every pass must return all N pairs. The first pass, which falls in the
 * warm-up window unless the store is very large, also compares every key and
 * value with the dataset: doing so on every pass cost about 30% of birch's
 * figure (measured), which would make it a benchmark of the check.
 */
import { drive } from '../driver.js';
import type { Pair } from '../engines/engine.js';
import { checkCount, checkPair, type Workload } from './workload.js';

export const bulkExtract: Workload = {
  name: 'bulk-extract',
  summary: 'RANGE over all pairs, repeatedly',
  store: 'loaded',
  async run(ctx) {
    const { engine, data, settings } = ctx;
    if (data.n === 0) throw new Error('bulk-extract needs a non-empty store');
    const initial = engine.range();
    /** The position in the current pass, and whether it is the first. */
    let pos = 0;
    let first = true;
    let r;
    if (Symbol.asyncIterator in initial) {
      const start = (): AsyncIterator<Pair> => (engine.range() as AsyncIterable<Pair>)[Symbol.asyncIterator]();
      let it = initial[Symbol.asyncIterator]();
      const step = async (): Promise<void> => {
        let next = await it.next();
        if (next.done === true) {
          checkCount(pos, data.n);
          it = start();
          pos = 0;
          first = false;
          next = await it.next();
        }
        if (next.done === true) throw new Error('range returned no pairs');
        if (first) checkPair(next.value, pos, data);
        pos++;
      };
      try {
        r = await drive(step, { ...settings, inFlight: 1, onTick: ctx.progress('bulk-extract', 'pairs') });
      } finally {
        await it.return?.();
      }
    } else {
      const start = (): Iterator<Pair> => (engine.range() as Iterable<Pair>)[Symbol.iterator]();
      let it = initial[Symbol.iterator]();
      const step = (): void => {
        let next = it.next();
        if (next.done === true) {
          checkCount(pos, data.n);
          it = start();
          pos = 0;
          first = false;
          next = it.next();
        }
        if (next.done === true) throw new Error('range returned no pairs');
        if (first) checkPair(next.value, pos, data);
        pos++;
      };
      try {
        r = await drive(step, { ...settings, inFlight: 1, onTick: ctx.progress('bulk-extract', 'pairs') });
      } finally {
        it.return?.();
      }
    }
    return { ...r, unit: 'pairs/s', figure: 'rate' };
  },
};
