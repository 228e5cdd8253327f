/**
 * A birch server for tests: a fresh store in a temporary directory, served
 * on a free loopback port (and/or a unix socket), with RawClients on it.
 * stop() closes the clients, the server and the store, checks the store,
 * and removes the directory.
 */
import * as path from 'node:path';
import { expect } from 'vitest';
import { open, type OpenOptions, type Store } from '../../src/index.js';
import { serve, type BirchServer, type ServeOptions } from '../../src/server/index.js';
import { RawClient } from './resp.js';
import { rmDir, tmpDir } from './tmp.js';

export interface TestServer {
  server: BirchServer;
  store: Store;
  dir: string;
  port: number;
  /** A new raw client (closed by stop()). */
  client(): Promise<RawClient>;
  stop(): Promise<void>;
}

export async function startServer(opts: ServeOptions = {}, storeOpts: OpenOptions = { cleaning: 0 }): Promise<TestServer> {
  const root = tmpDir('birch-serve-');
  const dir = path.join(root, 'store');
  const store = open(dir, storeOpts);
  let server: BirchServer;
  try {
    server = await serve(store, { port: 0, ...opts });
  } catch (err) {
    await store.close();
    rmDir(root);
    throw err;
  }
  const clients: RawClient[] = [];
  const port = server.address().port ?? 0;
  return {
    server,
    store,
    dir,
    port,
    async client() {
      const c = await RawClient.connect(opts.unix !== undefined && opts.port === undefined ? { path: opts.unix } : { port, host: '127.0.0.1' });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.close();
      const report = store.check();
      await store.close();
      rmDir(root);
      expect(report.problems).toEqual([]);
    },
  };
}
