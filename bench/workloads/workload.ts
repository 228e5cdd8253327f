/**
 * What a workload is, and what it is given. Each file beside this one defines
 * one of kivaloo's benchmark workloads in terms of the Engine interface and
 * the shared driver, so every engine runs exactly the same code.
 */
import type { Dataset } from '../data.js';
import type { DriveResult } from '../driver.js';
import type { Engine } from '../engines/engine.js';

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

/** Throws if a read found nothing where a pair was loaded. */
export function checkRead(value: Buffer | undefined, key: Buffer): void {
  if (value === undefined) throw new Error(`get(${key.toString('hex')}) found nothing, but the key was loaded`);
}
