/**
 * random-mixed: a store of N pairs; alternate GET and SET of uniformly random
 * keys, 4096 in flight (reads that complete at once count as done at once).
 * Figure: ops/s, reads and writes together. A read must find the loaded
 * value or its complement (what bulk-update's odd passes and this workload's
 * SETs write): a key may hold either, whichever workloads ran before.
 */
import { drive } from '../driver.js';
import { checkRead, type Workload } from './workload.js';

export const randomMixed: Workload = {
  name: 'random-mixed',
  summary: 'alternate GET and SET of random keys',
  store: 'loaded',
  async run(ctx) {
    const { engine, data, settings, random } = ctx;
    const r = await drive(
      (i) => {
        const k = random(data.n);
        const key = data.key(k);
        if (i % 2 === 1) return engine.put(key, data.updateValue(k, 1));
        const v = engine.get(key);
        if (v instanceof Promise) return v.then((x) => checkRead(x, data, k, true));
        checkRead(v, data, k, true);
        return undefined;
      },
      { ...settings, onTick: ctx.progress('random-mixed', 'ops') },
    );
    return { ...r, unit: 'ops/s', figure: 'rate' };
  },
};
