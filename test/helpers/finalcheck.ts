/**
 * The opt-out from the after-test check (test/setup/final-check.ts): every
 * store a test opens gets a full `check()` before it is closed, or at the end
 * of the test if it is still open. A test that damages a store on purpose
 * (flips bits, truncates files, plants a broken tree) says so in one line:
 *
 *     skipFinalCheck(db, 'bit flips in its segment files');
 *
 * The mark is a well-known Symbol on the store, so it works whichever copy
 * of this module a test imports.
 */
export const SKIP_FINAL_CHECK = Symbol.for('birch.skipFinalCheck');

/** Leave `db` (a Store, or a Tree made directly) out of the after-test check; `why` is kept for the record. */
export function skipFinalCheck<T extends object>(db: T, why = 'damaged on purpose'): T {
  (db as unknown as Record<symbol, string>)[SKIP_FINAL_CHECK] = why;
  return db;
}
