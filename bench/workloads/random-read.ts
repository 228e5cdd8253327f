/**
 * random-read: a store of N pairs; GET uniformly random keys (every key
 * read exists, and must hold the value loaded). Figure: reads/s.
 */
import { drive } from '../driver.js';
import { checkRead, type Workload } from './workload.js';

export const randomRead: Workload = {
  name: 'random-read',
  summary: 'GET uniformly random keys',
  store: 'loaded',
  async run(ctx) {
    const { engine, data, settings, random } = ctx;
    const r = await drive(
      () => {
        const k = random(data.n);
        const key = data.key(k);
        const v = engine.get(key);
        if (v instanceof Promise) return v.then((x) => checkRead(x, data, k));
        checkRead(v, data, k);
        return undefined;
      },
      { ...settings, onTick: ctx.progress('random-read', 'reads') },
    );
    return { ...r, unit: 'reads/s', figure: 'rate' };
  },
};
