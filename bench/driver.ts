/**
 * The load generator every workload uses: it keeps up to `inFlight` requests
 * outstanding (kivaloo's clients keep 4096), cuts the run into a warm-up and
 * fixed-length measurement windows, and reports the median window rate.
 *
 * An operation may complete synchronously (birch's and LMDB's reads) or
 * return a promise (every write). A synchronous operation is complete when it
 * returns, so "in flight" only ever counts promises; a run of synchronous
 * operations yields to the event loop every few milliseconds so timers (a
 * store's background cleaner, the progress line) keep running.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** One request. Returns a promise if it completes asynchronously. */
export type Operation = (i: number) => unknown;

export interface DriveOptions {
  /** Most requests outstanding at once. */
  inFlight: number;
  /** Fixed-count mode: run exactly this many operations (numbered 0..count-1).
   * Without it the run is timed: warm-up, then `windows` windows. */
  count?: number;
  /** Fixed-count mode: stop issuing after this many seconds even if fewer
   * than `count` operations were issued (a store too slow for the count). */
  maxSeconds?: number;
  /** Seconds before the first measurement window starts. */
  warmupSeconds: number;
  /** Length of one measurement window in seconds. */
  windowSeconds: number;
  /** Timed mode: the number of windows to measure. Fixed-count mode measures
   * every whole window that fits in the run. */
  windows: number;
  /** Called now and then with the operations completed so far. */
  onTick?: (completed: number, elapsedSeconds: number) => void;
}

export interface DriveResult {
  /** Operations completed. */
  ops: number;
  /** Wall-clock seconds from the first operation to the last completion. */
  seconds: number;
  /** ops / seconds over the whole run, warm-up included. */
  overallRate: number;
  /** Operations per second in each measurement window. */
  windowRates: number[];
  /** Median of windowRates, or overallRate when no whole window was measured. */
  rate: number;
  /** Highest resident set size sampled during the run, in bytes. */
  peakRss: number;
  /** How late the event loop ran a 1 ms timer during the run
   * (perf_hooks.monitorEventLoopDelay), in milliseconds: what an
   * application sharing the loop with the store would wait. */
  loopDelay: { p50: number; p99: number; max: number };
}

/** How often (ms) the clock is read and the progress callback called. */
const TICK_MS = 100;
/**
 * The longest (ms) the driver issues operations without yielding to the
 * event loop, as an application serving requests does: timers, I/O
 * callbacks and the store's own slices of work run in between.
 */
const YIELD_MS = 2;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

export async function drive(op: Operation, opts: DriveOptions): Promise<DriveResult> {
  if (!(opts.inFlight >= 1)) throw new RangeError('inFlight must be at least 1');
  if (!(opts.windowSeconds > 0) || !(opts.warmupSeconds >= 0)) throw new RangeError('windows need a positive length');
  const timed = opts.count === undefined;
  const count = opts.count ?? Infinity;
  const windowMs = opts.windowSeconds * 1000;

  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  const endAt = timed
    ? start + (opts.warmupSeconds + opts.windows * opts.windowSeconds) * 1000
    : opts.maxSeconds !== undefined
      ? start + opts.maxSeconds * 1000
      : Infinity;
  let issued = 0;
  let completed = 0;
  let outstanding = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  // Window bookkeeping: windows lie on a grid (warm-up end + k windows); the
  // current one started at winStart with winStartOps completed and closes at
  // the first tick at or after winEnd. Its rate uses the actual elapsed time,
  // so a late tick biases nothing.
  const windowRates: number[] = [];
  let measuring = false;
  let winStart = start;
  let winStartOps = 0;
  let winEnd = start + opts.warmupSeconds * 1000;
  let peakRss = process.memoryUsage.rss();
  let nextTick = start + TICK_MS;
  let lastYield = start;

  const tick = (now: number): void => {
    if (now >= winEnd) {
      if (measuring && (!timed || windowRates.length < opts.windows)) {
        windowRates.push(((completed - winStartOps) * 1000) / (now - winStart));
      }
      measuring = true;
      winStart = now;
      winStartOps = completed;
      while (winEnd <= now) winEnd += windowMs;
    }
    if (now >= nextTick) {
      nextTick = now + TICK_MS;
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      opts.onTick?.(completed, (now - start) / 1000);
    }
  };

  const onDone = (): void => {
    outstanding--;
    completed++;
    if (wake !== undefined) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const onFail = (error: unknown): void => {
    failure ??= { error };
    onDone();
  };

  while (failure === undefined && issued < count) {
    const now = performance.now();
    tick(now);
    if (now >= endAt) break;
    if (outstanding >= opts.inFlight) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    // Issue a burst without reading the clock for each operation.
    const burstEnd = Math.min(count, issued + 64);
    while (issued < burstEnd && outstanding < opts.inFlight) {
      let r: unknown;
      try {
        r = op(issued++);
      } catch (error) {
        failure = { error };
        break;
      }
      if (isPromiseLike(r)) {
        outstanding++;
        r.then(onDone, onFail);
      } else {
        completed++;
      }
    }
    if (now - lastYield >= YIELD_MS) {
      // Let timers, I/O callbacks and the store's work run.
      lastYield = now;
      await yieldToLoop();
    }
  }
  while (outstanding > 0) {
    await new Promise<void>((resolve) => (wake = resolve));
  }
  const end = performance.now();
  delay.disable();
  if (!timed) tick(end);
  if (failure !== undefined) throw failure.error;

  const seconds = (end - start) / 1000;
  const overallRate = seconds > 0 ? completed / seconds : 0;
  return {
    ops: completed,
    seconds,
    overallRate,
    windowRates,
    rate: windowRates.length > 0 ? median(windowRates) : overallRate,
    peakRss,
    loopDelay: {
      p50: delay.count > 0 ? delay.percentile(50) / 1e6 : 0,
      p99: delay.count > 0 ? delay.percentile(99) / 1e6 : 0,
      max: delay.count > 0 ? delay.max / 1e6 : 0,
    },
  };
}
