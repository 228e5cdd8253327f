/**
 * The after-test check's bookkeeping (test/setup/final-check.ts wires it
 * in): which stores were opened, by which test, and what their final
 * `check()` said.
 *
 * A store is tracked from the B+tree up: every `Tree` made (by `open()`, or
 * directly on a block store, as the cleaner's tests do) is recorded with its
 * block store, and `open()` ties the `Store` it returns to the tree it made.
 * The final check, the tree's full `check()`, runs:
 * - when the store closes: just before its block store closes, that is after
 *   the cleaner has stopped and every queued write has committed, while
 *   reads still work (a closed store cannot be checked);
 * - at the end of the test that opened it, if it is still open;
 * - at the end of the file, for stores opened outside a test (beforeAll).
 *
 * Not judged (counted apart): stores a test opted out with skipFinalCheck();
 * stores whose own check() the test already called and saw fail (the test is
 * judging that damage itself: corruption tests); stores whose writes failed
 * (the block store refuses appends until reopened); checks that throw
 * BIRCH_IO or BIRCH_CLOSED, or that could not read a page for an I/O error
 * (a crashed or failing file layer says nothing about the tree, and the
 * pages it hid leave the walk's counts incomplete).
 *
 * BIRCH_FINAL_CHECK=0 turns the whole thing off (to time the suite without it).
 */
import { expect } from 'vitest';
import type { CheckResult, Tree } from '../../src/btree/index.js';
import type { Store } from '../../src/index.js';
import { BirchError } from '../../src/errors.js';
import { BlockStore } from '../../src/lbs/index.js';
import { SKIP_FINAL_CHECK } from '../helpers/finalcheck.js';

export const enabled = process.env['BIRCH_FINAL_CHECK'] !== '0';

interface Tracked {
  tree: Tree;
  lbs: BlockStore;
  /** The Store over the tree, when open() made it. */
  db: Store | undefined;
  /** The tree's own check(), unwrapped. */
  check: () => CheckResult;
  /** Opened by a test (not by beforeAll/afterAll). */
  inTest: boolean;
  /** The final check has run (or been ruled out). */
  done: boolean;
  /** The test called check() itself and it reported problems. */
  sawProblems: boolean;
  /** Settles when the store's close() has (once called). */
  closing: Promise<void> | undefined;
}

export const figures = {
  /** Tests run (that reached their afterEach), tests that opened a store, and tests in which a store's final check ran and passed. */
  tests: 0,
  testsOpening: 0,
  testsChecked: 0,
  /** Stores opened, and what became of each one's final check. */
  stores: 0,
  checked: 0,
  optedOut: 0,
  ownCheckFailed: 0,
  writesFailed: 0,
  ioUnreadable: 0,
  threw: 0,
  stillClosing: 0,
  /** Final checks that found problems (each fails its test). */
  failed: 0,
};

/** Stores opened by the running test. */
let ofTest: Tracked[] = [];
/** Stores opened outside tests (beforeAll), checked when closed or at the end of the file. */
const ofFile: Tracked[] = [];
const byLbs = new Map<BlockStore, Tracked>();
const failures: string[] = [];
let testOpened = false;
let testChecked = false;
/** The last tree made: open() ties it to the Store it returns. */
let lastTree: Tracked | undefined;

// Run the final check just before a tracked block store closes. Patched once
// per module registry (vitest isolates test files, so each file has a fresh
// BlockStore class).
const PATCHED = Symbol.for('birch.finalCheckPatched');
const proto = BlockStore.prototype as BlockStore & Record<symbol, boolean>;
if (enabled && proto[PATCHED] !== true) {
  proto[PATCHED] = true;
  const realClose = BlockStore.prototype.close;
  BlockStore.prototype.close = function (this: BlockStore): Promise<void> {
    const t = byLbs.get(this);
    if (t !== undefined && !this.closed) finalCheck(t, 'at close');
    return realClose.call(this);
  };
}

/** Record a tree just made on `lbs` (the Tree subclass in final-check.ts calls this). */
export function trackTree(tree: Tree, lbs: BlockStore): void {
  if (!enabled) return;
  const realCheck = tree.check.bind(tree);
  const inTest = expect.getState().currentTestName !== undefined;
  const t: Tracked = { tree, lbs, db: undefined, check: realCheck, inTest, done: false, sawProblems: false, closing: undefined };
  tree.check = (): CheckResult => {
    const r = realCheck();
    if (!r.ok) t.sawProblems = true;
    return r;
  };
  figures.stores++;
  byLbs.set(lbs, t);
  lastTree = t;
  if (inTest) {
    ofTest.push(t);
    testOpened = true;
  } else {
    ofFile.push(t);
  }
}

/** Wrap the public open(): the Store it returns is tied to the tree it made. */
export function wrapOpen<F extends (...args: never[]) => Store>(realOpen: F): F {
  if (!enabled) return realOpen;
  return ((...args: Parameters<F>): Store => {
    lastTree = undefined;
    const db = realOpen(...args);
    const t = lastTree as Tracked | undefined;
    lastTree = undefined;
    if (t !== undefined) {
      t.db = db;
      const realClose = db.close.bind(db);
      db.close = (): Promise<void> => {
        const p = realClose();
        t.closing ??= p.then(
          () => undefined,
          () => undefined,
        );
        return p;
      };
    }
    return db;
  }) as F;
}

function optedOut(t: Tracked): boolean {
  const marked = (x: object | undefined): boolean => x !== undefined && (x as Record<symbol, unknown>)[SKIP_FINAL_CHECK] !== undefined;
  return marked(t.db) || marked(t.tree);
}

function finalCheck(t: Tracked, when: string): void {
  if (t.done) return;
  t.done = true;
  if (byLbs.get(t.lbs) === t) byLbs.delete(t.lbs);
  if (optedOut(t)) {
    figures.optedOut++;
    return;
  }
  if (t.sawProblems) {
    figures.ownCheckFailed++;
    return;
  }
  if (t.lbs.failed !== undefined) {
    figures.writesFailed++;
    return;
  }
  let r: CheckResult;
  try {
    r = t.check();
  } catch (err) {
    if (err instanceof BirchError && (err.code === 'BIRCH_IO' || err.code === 'BIRCH_CLOSED')) {
      figures.threw++;
      return;
    }
    figures.failed++;
    failures.push(`${t.lbs.dir} (${when}): check() threw ${err instanceof BirchError ? err.code : ''} ${String(err)}`);
    return;
  }
  if (r.ok) {
    figures.checked++;
    if (t.inTest) testChecked = true;
    return;
  }
  // A page that could not be read for an I/O error (a crashed or failing file
  // layer) leaves the walk incomplete, and the counts below it with it.
  if (r.problems.some((p) => p.kind === 'unreadable' && p.code === 'BIRCH_IO')) {
    figures.ioUnreadable++;
    return;
  }
  figures.failed++;
  const list = r.problems.slice(0, 5).map((p) => `  ${p.kind}${p.block === undefined ? '' : ` (block ${p.block})`}: ${p.message}`);
  if (r.problems.length > 5) list.push(`  ... and ${r.problems.length - 5} more`);
  failures.push(`${t.lbs.dir} (${when}): check() found ${r.problems.length} problem(s):\n${list.join('\n')}`);
}

function throwFailures(): void {
  if (failures.length === 0) return;
  const text = failures.splice(0).join('\n');
  throw new Error(
    `the after-test check() of a store found problems (if the test damages the store on purpose, mark it with skipFinalCheck(db) from test/helpers/finalcheck.ts):\n${text}`,
  );
}

/** Give a close() that is still running this long to finish before giving up on its check. */
const CLOSE_WAIT_MS = 5000;

/** End of a test: wait for closes it started, check stores it left open, fail on problems. */
export async function afterTest(): Promise<void> {
  if (!enabled) return;
  figures.tests++;
  try {
    await settleTest();
  } finally {
    if (testOpened) figures.testsOpening++;
    if (testChecked) figures.testsChecked++;
    testOpened = testChecked = false;
  }
}

/**
 * The final checks of the running test's stores, now: throws if one found
 * problems. afterTest() runs it; a test may too, to see the check work.
 */
export async function settleTest(): Promise<void> {
  const mine = ofTest;
  ofTest = [];
  for (const t of mine) {
    if (t.done) continue;
    if (t.closing !== undefined && !t.lbs.closed) {
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        t.closing.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), CLOSE_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (late && !t.done) {
        t.done = true;
        figures.stillClosing++;
      }
    }
    // Still open (or a close that failed before it reached the block store).
    if (!t.done && !t.lbs.closed) finalCheck(t, 'after the test');
  }
  throwFailures();
}

/** End of a file: check stores opened outside tests that are still open; print the figures. */
export function afterFile(): void {
  if (!enabled) return;
  for (const t of ofFile.splice(0)) if (!t.done && !t.lbs.closed) finalCheck(t, 'at the end of the file');
  const f = figures;
  const file = (expect.getState().testPath ?? '').replace(/^.*?(?=test\/)/, '');
  console.log(
    `[final-check] ${file}: ${f.testsChecked} of ${f.tests} tests ran the after-test check (${f.testsOpening} opened a store); ` +
      `stores: ${f.stores} opened, ${f.checked} checked, ${f.failed} failed, ${f.optedOut} opted out, ${f.ownCheckFailed} judged by the test's own check, ` +
      `not checkable: ${f.writesFailed} writes failed, ${f.ioUnreadable} I/O errors, ${f.threw} threw, ${f.stillClosing} still closing`,
  );
  throwFailures();
}
