/**
 * lmdb-js as a peer. `overlappingSync: false` makes a write's promise resolve
 * only after its transaction has been committed and flushed, so a resolved
 * put is durable like birch's; lmdb-js batches the writes issued in one event
 * turn into one transaction, its own group commit. Reads are synchronous.
 *
 * The package is a devDependency of birchdb (installed in a clone, not in
 * an application that installs birchdb), imported at run time so that the
 * bench builds and runs without it.
 */
import { diskUsage, importPeer, type Engine, type EngineModule, type EngineOptions, type Pair } from './engine.js';

/** The part of lmdb-js's API the bench uses. */
interface LmdbDB {
  getBinary(key: Buffer): Buffer | undefined;
  put(key: Buffer, value: Buffer): Promise<boolean>;
  getRange(options: { start?: Buffer }): Iterable<{ key: Buffer; value: Buffer }>;
  close(): Promise<void>;
}
interface LmdbModule {
  open(options: Record<string, unknown>): LmdbDB;
}

const PACKAGE = 'lmdb';

export const lmdb: EngineModule = {
  name: 'lmdb',
  probe: async () => {
    await importPeer('lmdb', PACKAGE);
  },
  async open(dir: string, opts: EngineOptions): Promise<Engine> {
    const mod = await importPeer<LmdbModule>('lmdb', PACKAGE);
    const db = mod.open({
      path: dir,
      keyEncoding: 'binary',
      encoding: 'binary',
      compression: false,
      overlappingSync: false,
      noSync: !opts.sync,
    });
    return {
      get: (key) => db.getBinary(key),
      put: (key, value) => db.put(key, value),
      range: function* (gte?: Buffer): Iterable<Pair> {
        for (const { key, value } of db.getRange(gte === undefined ? {} : { start: gte })) yield [key, value];
      },
      bytesOnDisk: () => diskUsage(dir),
      close: () => db.close(),
    };
  },
};
