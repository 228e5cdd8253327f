/**
 * classic-level (LevelDB) as a peer. Every put is written with `sync: true`,
 * so a resolved put has been fsynced like birch's; LevelDB merges concurrent
 * writers into one log write and one fsync, its own group commit. Reads use
 * getSync, LevelDB's fastest read path from JavaScript, since birch's and
 * LMDB's reads are synchronous too.
 *
 * The package is a devDependency of birchdb (installed in a clone, not in
 * an application that installs birchdb), imported at run time so that the
 * bench builds and runs without it.
 */
import { diskUsage, importPeer, type Engine, type EngineModule, type EngineOptions, type Pair } from './engine.js';

/** The part of classic-level's API the bench uses. */
interface LevelDB {
  open(): Promise<void>;
  getSync(key: Buffer): Buffer | undefined;
  put(key: Buffer, value: Buffer, options: { sync: boolean }): Promise<void>;
  iterator(options: { gte?: Buffer }): AsyncIterable<Pair>;
  close(): Promise<void>;
}
interface LevelModule {
  ClassicLevel: new (location: string, options: Record<string, unknown>) => LevelDB;
}

const PACKAGE = 'classic-level';

export const level: EngineModule = {
  name: 'level',
  probe: async () => {
    await importPeer('level', PACKAGE);
  },
  async open(dir: string, opts: EngineOptions): Promise<Engine> {
    const mod = await importPeer<LevelModule>('level', PACKAGE);
    const db = new mod.ClassicLevel(dir, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}),
    });
    await db.open();
    const putOptions = { sync: opts.sync };
    return {
      get: (key) => db.getSync(key),
      put: (key, value) => db.put(key, value, putOptions),
      range: (gte?: Buffer) => db.iterator(gte === undefined ? {} : { gte }),
      bytesOnDisk: () => diskUsage(dir),
      close: () => db.close(),
    };
  },
};
