/**
 * hotspot-read: a store of N pairs; pick 65,536 consecutive keys at a random
 * start, read them in a random order, and repeat with a new pick (one of
 * Tarsnap's read patterns). A store smaller than 65,536 pairs is one hot
 * spot. Figure: reads/s.
 */
import { drive } from '../driver.js';
import { checkRead, type Workload } from './workload.js';

/** Keys in one hot spot. */
export const HOTSPOT_SIZE = 65536;

export const hotspotRead: Workload = {
  name: 'hotspot-read',
  summary: 'read 65,536 consecutive keys in random order, repeat',
  store: 'loaded',
  async run(ctx) {
    const { engine, data, settings, random } = ctx;
    const size = Math.min(HOTSPOT_SIZE, data.n);
    const perm = Uint32Array.from({ length: size }, (_, j) => j);
    let base = 0;
    const r = await drive(
      (i) => {
        // A Fisher-Yates shuffle done one draw at a time: position p takes
        // a random one of the offsets not yet read in this pass.
        const p = i % size;
        if (p === 0) base = random(data.n - size + 1);
        const q = p + random(size - p);
        const off = perm[q]!;
        perm[q] = perm[p]!;
        perm[p] = off;
        const k = base + off;
        const key = data.key(k);
        const v = engine.get(key);
        if (v instanceof Promise) return v.then((x) => checkRead(x, data, k));
        checkRead(v, data, k);
        return undefined;
      },
      { ...settings, onTick: ctx.progress('hotspot-read', 'reads') },
    );
    return { ...r, unit: 'reads/s', figure: 'rate' };
  },
};
