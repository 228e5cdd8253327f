/**
 * birch itself, through its public API only, as a user would call it.
 */
import { open as openBirch } from 'birchdb';
import { diskUsage, type Engine, type EngineModule, type EngineOptions, type Pair } from './engine.js';

export const birch: EngineModule = {
  name: 'birch',
  async open(dir: string, opts: EngineOptions): Promise<Engine> {
    const db = openBirch(dir, {
      sync: opts.sync,
      ...(opts.blockSize !== undefined ? { blockSize: opts.blockSize } : {}),
      ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}),
    });
    return {
      get: (key) => db.get(key),
      put: (key, value) => db.put(key, value),
      range: (gte?: Buffer): Iterable<Pair> => db.range(gte === undefined ? {} : { gte }),
      bytesOnDisk: () => diskUsage(dir),
      details: () => {
        const s = db.stats();
        return {
          keys: s.keys,
          height: s.height,
          pagesLive: s.pagesLive,
          pagesOnDisk: s.pagesOnDisk,
          bytesOnDisk: s.bytesOnDisk,
          cacheHitRate: s.cacheHitRate,
          commits: s.commits,
          averageBatch: s.averageBatch,
        };
      },
      close: () => db.close(),
    };
  },
};
