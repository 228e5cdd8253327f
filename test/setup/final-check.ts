/**
 * A vitest setup file, run before every test file:
 *
 * - strict mode for trees made directly: `open()` takes its `strict` default
 *   from BIRCH_STRICT (vitest.config.ts sets it), and so, here, does a `Tree`
 *   built on a block store without a `strict` option (the cleaner's tests);
 * - every test that opens a store runs the store's full check() before it
 *   ends (bbolt runs its checker after every test). Every `Tree` made is
 *   tracked, and the public open() (src/api/store.ts: src/index.ts
 *   re-exports it, `birchdb` is aliased to src/index.ts, the in-process CLI
 *   imports it directly) ties its Store to its tree; the bookkeeping and the
 *   rules for what is judged are in final-check-state.ts. A test that
 *   damages a store on purpose opts out with skipFinalCheck(db) from
 *   test/helpers/finalcheck.ts.
 */
import { afterAll, afterEach, vi } from 'vitest';
import { afterFile, afterTest } from './final-check-state.js';

vi.mock('../../src/btree/tree.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/btree/tree.js')>();
  const { trackTree } = await import('./final-check-state.js');
  class Tree extends real.Tree {
    constructor(...[lbs, opts]: ConstructorParameters<typeof real.Tree>) {
      super(lbs, { ...opts, strict: opts.strict ?? process.env['BIRCH_STRICT'] === '1' });
      trackTree(this, lbs);
    }
  }
  return { ...real, Tree };
});

vi.mock('../../src/api/store.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/api/store.js')>();
  const { wrapOpen } = await import('./final-check-state.js');
  return { ...real, open: wrapOpen(real.open) };
});

afterEach(afterTest);
afterAll(afterFile);
