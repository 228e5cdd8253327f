/**
 * What a workload is, and what it is given. Each file beside this one defines
 * one of kivaloo's benchmark workloads in terms of the Engine interface and
 * the shared driver, so every engine runs exactly the same code.
 */
import type { Dataset } from '../data.js';
import type { DriveResult } from '../driver.js';
import type { Engine, Pair } from '../engines/engine.js';

/** Driver settings shared by all workloads of a run. */
export interface RunSettings {
  /** Requests kept outstanding (kivaloo: 4096). */
  inFlight: number;
  /** Seconds of warm-up before the first window of a timed workload. */
  warmupSeconds: number;
  /** Seconds per measurement window. */
  windowSeconds: number;
  /** Windows per timed workload; the result is their median. */
  windows: number;
}

export interface WorkloadContext {
  /** The store under test: the main store (empty for bulk-insert, loaded with
   * all pairs for the others) or, for `store: 'fresh'`, a new empty one. */
  engine: Engine;
  /** The N pairs of the main store, in key order. */
  data: Dataset;
  settings: RunSettings;
  /** Pairs the tokyo workload writes. */
  tokyoPairs: number;
  /** Uniform random integers in [0, n), seeded. */
  random: (n: number) => number;
  /** The progress callback to hand the driver; `total` when the count is known. */
  progress: (phase: string, unit: string, total?: number) => (done: number, elapsed: number) => void;
}

export interface Measurement extends DriveResult {
  /** What `rate` counts per second. */
  unit: string;
  /** For workloads whose figure is a duration (tokyo): report seconds. */
  figure: 'rate' | 'seconds';
}

export interface Workload {
  /** The name on the command line (kivaloo's test name with dashes). */
  readonly name: string;
  /** One line for --help and the README. */
  readonly summary: string;
  /** empty: the main store before loading (bulk-insert only); loaded: the
   * main store holding all N pairs; fresh: a store of its own. */
  readonly store: 'empty' | 'loaded' | 'fresh';
  run(ctx: WorkloadContext): Promise<Measurement>;
}

/**
 * Throws if a read of pair `i` found nothing, or a value other than the one
 * loaded (or, with `updated`, other than the loaded one and its complement,
 * the two values a key can hold once updates ran). The dataset knows every
 * pair's value, so a store that returns wrong bytes fails the run rather
 * than scoring well.
 */
export function checkRead(value: Uint8Array | undefined, data: Dataset, i: number, updated = false): void {
  if (value !== undefined && (data.valueIs(i, value) || (updated && data.valueIs(i, value, 1)))) return;
  const key = data.key(i).toString('hex');
  if (value === undefined) throw new Error(`get(${key}) found nothing, but the key was loaded`);
  throw new Error(
    `get(${key}) returned ${Buffer.from(value).toString('hex')}, expected ${data.value(i).toString('hex')}` +
      (updated ? ` or ${data.updateValue(i, 1).toString('hex')}` : ''),
  );
}

/** Throws unless `pair` is pair `i` of the loaded store, key and value. */
export function checkPair(pair: Pair, i: number, data: Dataset): void {
  const [key, value] = pair;
  if (i >= data.n) throw new Error(`range returned more than the ${data.n} pairs loaded (key ${Buffer.from(key).toString('hex')})`);
  if (!data.keyIs(i, key)) {
    throw new Error(`range: pair ${i} has key ${Buffer.from(key).toString('hex')}, expected ${data.key(i).toString('hex')}`);
  }
  if (!data.valueIs(i, value)) {
    throw new Error(`range: pair ${i} (key ${data.key(i).toString('hex')}) has value ${Buffer.from(value).toString('hex')}, expected ${data.value(i).toString('hex')}`);
  }
}

/** Throws unless a range read over the whole store returned all `n` pairs. */
export function checkCount(returned: number, n: number): void {
  if (returned !== n) throw new Error(`range returned ${returned} pairs, but ${n} were loaded`);
}
