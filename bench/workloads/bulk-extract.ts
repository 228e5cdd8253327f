/**
 * bulk-extract: a store of N pairs; RANGE over everything, start to end, over
 * and over. One range read is one sequential stream, so it runs one request
 * at a time; a step of the iterator is one pair. Figure: pairs/s.
 */
import { drive } from '../driver.js';
import type { Pair } from '../engines/engine.js';
import type { Workload } from './workload.js';

export const bulkExtract: Workload = {
  name: 'bulk-extract',
  summary: 'RANGE over all pairs, repeatedly',
  store: 'loaded',
  async run(ctx) {
    const { engine, data, settings } = ctx;
    if (data.n === 0) throw new Error('bulk-extract needs a non-empty store');
    const first = engine.range();
    let r;
    if (Symbol.asyncIterator in first) {
      const start = (): AsyncIterator<Pair> => (engine.range() as AsyncIterable<Pair>)[Symbol.asyncIterator]();
      let it = first[Symbol.asyncIterator]();
      const step = async (): Promise<void> => {
        let next = await it.next();
        if (next.done === true) {
          it = start();
          next = await it.next();
        }
        if (next.done === true) throw new Error('range returned no pairs');
      };
      try {
        r = await drive(step, { ...settings, inFlight: 1, onTick: ctx.progress('bulk-extract', 'pairs') });
      } finally {
        await it.return?.();
      }
    } else {
      const start = (): Iterator<Pair> => (engine.range() as Iterable<Pair>)[Symbol.iterator]();
      let it = first[Symbol.iterator]();
      const step = (): void => {
        let next = it.next();
        if (next.done === true) {
          it = start();
          next = it.next();
        }
        if (next.done === true) throw new Error('range returned no pairs');
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
