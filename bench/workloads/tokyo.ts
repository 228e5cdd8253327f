/**
 * tokyo: Tokyo Cabinet's benchmark. A new, empty store; SET 10^6 pairs (or
 * --pairs, if smaller) with key = value = the pair number as 8 decimal digits
 * ('00000000', '00000001', ...), in order, 4096 in flight. Figure: seconds.
 */
import { tokyoKey } from '../data.js';
import { drive } from '../driver.js';
import type { Workload } from './workload.js';

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
      { ...settings, count: tokyoPairs, onTick: ctx.progress('tokyo', 'pairs', tokyoPairs) },
    );
    return { ...r, unit: 'pairs/s', figure: 'seconds' };
  },
};
