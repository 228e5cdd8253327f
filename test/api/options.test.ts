/**
 * Option defaults that depend on the machine.
 */
import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultCacheSize } from '../../src/api/options.js';
import { openStore } from './util.js';


describe('option defaults', () => {
  it('the node cache defaults to a quarter of the memory the process may use, at least 64 MiB', async () => {
    let memory = os.totalmem();
    const limit = process.constrainedMemory?.();
    if (limit !== undefined && limit > 0 && limit < memory) memory = limit;
    const expected = Math.max(64 * 1024 * 1024, Math.floor(memory / 4));
    expect(defaultCacheSize()).toBe(expected);
    const db = openStore();
    expect(db.stats().cacheLimit).toBe(expected);
    await db.close();
  });
});
