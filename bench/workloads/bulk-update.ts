/**
 * bulk-update: a store of N pairs; SET every key again in key order, over
 * and over, 4096 in flight. Each pass writes values that differ from the
 * stored ones (Dataset.updateValue). Figure: pairs/s at steady state.
 */
import { drive } from '../driver.js';
import type { Workload } from './workload.js';

export const bulkUpdate: Workload = {
  name: 'bulk-update',
  summary: 'SET every key again in key order, repeatedly',
  store: 'loaded',
  async run(ctx) {
    const { engine, data, settings } = ctx;
    const n = data.n;
    const r = await drive(
      (i) => {
        const k = i % n;
        return engine.put(data.key(k), data.updateValue(k, Math.floor(i / n) + 1));
      },
      { ...settings, onTick: ctx.progress('bulk-update', 'pairs') },
    );
    return { ...r, unit: 'pairs/s', figure: 'rate' };
  },
};
