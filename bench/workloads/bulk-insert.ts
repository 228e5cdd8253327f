/**
 * bulk-insert: empty store, SET all N pairs in key order, 4096 in flight.
 * Figure: pairs/s (the median window; the whole load's rate is recorded too).
 * The same routine loads the store, unmeasured, when bulk-insert itself was
 * not asked for.
 */
import { drive } from '../driver.js';
import type { Measurement, Workload, WorkloadContext } from './workload.js';

export async function load(ctx: WorkloadContext, phase: string): Promise<Measurement> {
  const { engine, data, settings } = ctx;
  const r = await drive((i) => engine.put(data.key(i), data.value(i)), {
    ...settings,
    count: data.n,
    onTick: ctx.progress(phase, 'pairs', data.n),
  });
  return { ...r, unit: 'pairs/s', figure: 'rate' };
}

export const bulkInsert: Workload = {
  name: 'bulk-insert',
  summary: 'empty store, SET all pairs in key order',
  store: 'empty',
  run: (ctx) => load(ctx, 'bulk-insert'),
};
