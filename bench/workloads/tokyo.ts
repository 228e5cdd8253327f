/**
 * tokyo: Tokyo Cabinet's benchmark. A new, empty store; SET 10^6 pairs (or
 * --pairs, if smaller) with key = value = the pair number as 8 decimal digits
 * ('00000000', '00000001', ...), in order, 4096 in flight. Figure: seconds.
 * A store that has not finished after TOKYO_MAX_SECONDS stops there, and its
 * figure is projected from the pairs it did write (the report marks it ~):
 * LevelDB with a sync per put would otherwise take minutes.
 */
import { tokyoKey } from '../data.js';
import { drive } from '../driver.js';
import type { Workload } from './workload.js';

/** The longest a tokyo run may take, in seconds, before its figure is projected. */
export const TOKYO_MAX_SECONDS = 30;

export const tokyo: Workload = {
  name: 'tokyo',
  summary: 'new store, SET 10^6 pairs, key = value = 8-digit decimal; seconds',
  store: 'fresh',
  async run(ctx) {
    const { engine, settings, tokyoPairs } = ctx;
    // Built before the clock starts, so the run measures the store alone.
    const keys = Buffer.allocUnsafe(tokyoPairs * 8);
    for (let i = 0; i < tokyoPairs; i++) tokyoKey(i).copy(keys, i * 8);
    const r = await drive(
      (i) => {
        const k = keys.subarray(i * 8, i * 8 + 8);
        return engine.put(k, k);
      },
      { ...settings, count: tokyoPairs, maxSeconds: TOKYO_MAX_SECONDS, onTick: ctx.progress('tokyo', 'pairs', tokyoPairs) },
    );
    return { ...r, unit: 'pairs/s', figure: 'seconds' };
  },
};
