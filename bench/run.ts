/**
 * One benchmark run: for each engine in turn, build its stores in a scratch
 * directory, run the chosen workloads through the shared driver, and collect
 * the measurements into a report (printed by report.ts).
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset, randomInts } from './data.js';
import { EngineMissing, type Engine, type EngineModule, type EngineOptions } from './engines/engine.js';
import { loadEngine, type EngineName } from './engines/index.js';
import { Progress, type ErrStream } from './progress.js';
import { load } from './workloads/bulk-insert.js';
import { WORKLOADS } from './workloads/index.js';
import type { Measurement, RunSettings, Workload, WorkloadContext } from './workloads/workload.js';

export interface BenchConfig {
  /** Workload names, validated; run in WORKLOADS order whatever the order here. */
  workloads: string[];
  /** Engine names, validated, in the order to run them. */
  engines: EngineName[];
  /** Pairs in the main store. */
  pairs: number;
  /** Pairs the tokyo workload writes. */
  tokyoPairs: number;
  /** Measured seconds per timed workload (split into `windows` windows). */
  seconds: number;
  windows: number;
  inFlight: number;
  sync: boolean;
  blockSize?: number;
  cacheSize?: number;
  /** Where the stores go; a temporary directory (removed afterwards) if unset. */
  dir?: string;
  /** Seed of the random key choices. */
  seed: number;
  /** Internal: `dir` was already checked (by the parent of a child process). */
  dirChecked?: boolean;
}

export interface BenchIO {
  err: ErrStream;
  /** Tests substitute engines here (e.g. an in-memory one). */
  engineModules?: Partial<Record<string, EngineModule>>;
}

export interface WorkloadResult {
  engine: string;
  workload: string;
  unit: string;
  /** The headline figure: seconds (tokyo) or the median window rate. */
  figure: 'rate' | 'seconds';
  rate: number;
  overallRate: number;
  windowRates: number[];
  ops: number;
  seconds: number;
  /** Bytes the store under test occupied on disk right after the workload. */
  bytesOnDisk: number;
  /** Highest resident set size sampled while the workload ran. */
  peakRss: number;
  /** Event-loop delay while the workload ran, in ms (see DriveResult). */
  loopDelay: { p50: number; p99: number; max: number };
  details?: Record<string, number>;
}

export interface BenchReport {
  tool: 'birch bench';
  date: string;
  config: Omit<BenchConfig, 'dir'> & {
    dir: string;
    /** true when writes were not fsynced (--no-sync): the figures are not durable ones. */
    dataLossMode: boolean;
    warmupSeconds: number;
    windowSeconds: number;
  };
  machine: { node: string; platform: string; arch: string; cpus: number; cpuModel: string; memoryBytes: number };
  results: WorkloadResult[];
  skipped: { engine: string; reason: string }[];
  errors: { engine: string; workload: string; message: string }[];
  /** The peak resident set size of the process (with one process per
   * engine: the largest of them) over the whole run, in bytes. */
  peakRss: number;
  /** Wall-clock seconds for the whole run. */
  totalSeconds: number;
}

/**
 * Runs the benchmark. With several engines and the compiled bench, each
 * engine runs in a child process of its own (bench/child.ts), so that one
 * engine's heap and peak RSS do not count against the next; otherwise (one
 * engine, substituted engines in tests, or running from the TypeScript
 * sources) everything runs in this process.
 */
export async function runBench(cfg: BenchConfig, io: BenchIO): Promise<BenchReport> {
  const child = new URL('./child.js', import.meta.url);
  if (cfg.engines.length > 1 && io.engineModules === undefined && import.meta.url.endsWith('.js') && existsSync(child)) {
    return runIsolated(cfg, io, child);
  }
  return runInProcess(cfg, io);
}

async function runIsolated(cfg: BenchConfig, io: BenchIO, child: URL): Promise<BenchReport> {
  const t0 = performance.now();
  // Check --dir here, once; the children add their stores to it.
  if (cfg.dir !== undefined) prepareDir(cfg.dir);
  let merged: BenchReport | undefined;
  const lost: BenchReport['errors'] = [];
  for (const engine of cfg.engines) {
    const sub: BenchConfig = { ...cfg, engines: [engine], dirChecked: true };
    const r = await new Promise<BenchReport | undefined>((resolve) => {
      const proc = fork(fileURLToPath(child), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let got: BenchReport | undefined;
      let failed: string | undefined;
      proc.on('message', (m: { report?: BenchReport; error?: string }) => {
        got = m.report;
        failed = m.error;
      });
      const fail = (message: string): void => {
        lost.push({ engine, workload: '(process)', message });
        new Progress(io.err).note(`${engine}: ${message}`);
        resolve(undefined);
      };
      proc.on('error', (err) => fail(err.message));
      proc.on('exit', (code, signal) => {
        if (got !== undefined) resolve(got);
        else fail(failed ?? `the ${engine} bench process exited with ${signal ?? `code ${code}`}`);
      });
      proc.send(sub);
    });
    if (r === undefined) continue;
    if (merged === undefined) {
      merged = { ...r, config: { ...r.config, engines: cfg.engines, dir: cfg.dir ?? '(temporary, removed)' } };
    } else {
      merged.results.push(...r.results);
      merged.skipped.push(...r.skipped);
      merged.errors.push(...r.errors);
      merged.peakRss = Math.max(merged.peakRss, r.peakRss);
    }
  }
  if (merged === undefined) {
    merged = await runInProcess({ ...cfg, engines: [], workloads: [], dirChecked: true }, io);
    merged.config.engines = cfg.engines;
    merged.config.workloads = cfg.workloads;
  }
  merged.errors.push(...lost);
  merged.totalSeconds = (performance.now() - t0) / 1000;
  return merged;
}

async function runInProcess(cfg: BenchConfig, io: BenchIO): Promise<BenchReport> {
  const t0 = performance.now();
  const progress = new Progress(io.err);
  const selected = WORKLOADS.filter((w) => cfg.workloads.includes(w.name));
  const usesMain = selected.some((w) => w.store !== 'fresh');
  const windowSeconds = cfg.seconds / cfg.windows;
  const settings: RunSettings = {
    inFlight: cfg.inFlight,
    warmupSeconds: windowSeconds,
    windowSeconds,
    windows: cfg.windows,
  };
  const engineOptions: EngineOptions = {
    sync: cfg.sync,
    ...(cfg.blockSize !== undefined ? { blockSize: cfg.blockSize } : {}),
    ...(cfg.cacheSize !== undefined ? { cacheSize: cfg.cacheSize } : {}),
  };

  const { base, temporary } = cfg.dirChecked === true && cfg.dir !== undefined ? { base: cfg.dir, temporary: false } : prepareDir(cfg.dir);
  const removeOnSignal = (): void => {
    progress.clear();
    if (temporary) rmSync(base, { recursive: true, force: true });
    process.exit(130);
  };
  if (temporary) process.once('SIGINT', removeOnSignal);

  const report: BenchReport = {
    tool: 'birch bench',
    date: new Date().toISOString(),
    config: { ...withoutInternal(cfg), dir: base, dataLossMode: !cfg.sync, warmupSeconds: windowSeconds, windowSeconds },
    machine: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
    },
    results: [],
    skipped: [],
    errors: [],
    peakRss: 0,
    totalSeconds: 0,
  };

  try {
    let data = new Dataset(0);
    if (usesMain) {
      progress.status(`generating ${cfg.pairs.toLocaleString('en-US')} pairs`);
      data = new Dataset(cfg.pairs);
      progress.clear();
    }
    for (const name of cfg.engines) {
      let mod: EngineModule;
      try {
        mod = io.engineModules?.[name] ?? (await loadEngine(name));
      } catch (err) {
        // birch's own module failing to load is an error, not a skip.
        report.errors.push({ engine: name, workload: '(load engine)', message: messageOf(err) });
        progress.note(`${name}: could not load the engine: ${messageOf(err)}`);
        continue;
      }
      const ctxFor = (engine: Engine): WorkloadContext => ({
        engine,
        data,
        settings,
        tokyoPairs: cfg.tokyoPairs,
        random: randomInts(cfg.seed),
        progress: (phase, unit, total) => progress.tracker(name, phase, unit, total),
      });
      const run = async (w: Workload | undefined, engine: Engine, phase: () => Promise<Measurement>): Promise<boolean> => {
        try {
          const m = await phase();
          progress.clear();
          if (w !== undefined) {
            const details = engine.details?.();
            report.results.push({
              engine: name,
              workload: w.name,
              unit: m.unit,
              figure: m.figure,
              rate: m.rate,
              overallRate: m.overallRate,
              windowRates: m.windowRates,
              ops: m.ops,
              seconds: m.seconds,
              bytesOnDisk: engine.bytesOnDisk(),
              peakRss: m.peakRss,
              loopDelay: m.loopDelay,
              ...(details !== undefined ? { details } : {}),
            });
          }
          return true;
        } catch (err) {
          const label = w?.name ?? 'load';
          report.errors.push({ engine: name, workload: label, message: messageOf(err) });
          progress.note(`${name}: ${label} failed: ${messageOf(err)}`);
          return false;
        }
      };

      // The main store: loaded once, then every selected workload on it.
      let skipped = false;
      if (usesMain) {
        const dir = join(base, name);
        let engine: Engine | undefined;
        try {
          engine = await mod.open(dir, engineOptions);
        } catch (err) {
          skipped = noteOpenFailure(err, name, report, progress);
        }
        if (engine !== undefined) {
          const e = engine;
          let ok = true;
          const insert = selected.find((w) => w.store === 'empty');
          if (insert !== undefined) ok = await run(insert, e, () => insert.run(ctxFor(e)));
          else ok = await run(undefined, e, () => load(ctxFor(e), 'loading'));
          for (const w of selected) {
            if (!ok || w.store !== 'loaded') continue;
            ok = await run(w, e, () => w.run(ctxFor(e)));
          }
          try {
            await e.close();
          } catch (err) {
            report.errors.push({ engine: name, workload: '(close)', message: messageOf(err) });
          }
          if (temporary) rmSync(dir, { recursive: true, force: true });
        }
      }
      // Workloads with a store of their own (tokyo).
      for (const w of selected) {
        if (skipped || w.store !== 'fresh') continue;
        const dir = join(base, `${name}-${w.name}`);
        let engine: Engine;
        try {
          engine = await mod.open(dir, engineOptions);
        } catch (err) {
          skipped = noteOpenFailure(err, name, report, progress);
          continue;
        }
        await run(w, engine, () => w.run(ctxFor(engine)));
        try {
          await engine.close();
        } catch (err) {
          report.errors.push({ engine: name, workload: '(close)', message: messageOf(err) });
        }
        if (temporary) rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    progress.clear();
    if (temporary) {
      process.removeListener('SIGINT', removeOnSignal);
      rmSync(base, { recursive: true, force: true });
    }
  }
  report.peakRss = process.resourceUsage().maxRSS * 1024;
  report.totalSeconds = (performance.now() - t0) / 1000;
  return report;
}

/** Records why an engine could not open; returns true if it is simply not installed. */
function noteOpenFailure(err: unknown, name: string, report: BenchReport, progress: Progress): boolean {
  if (err instanceof EngineMissing) {
    if (!report.skipped.some((s) => s.engine === name)) {
      report.skipped.push({ engine: name, reason: err.message });
      progress.note(err.message);
    }
    return true;
  }
  report.errors.push({ engine: name, workload: '(open)', message: messageOf(err) });
  progress.note(`${name}: open failed: ${messageOf(err)}`);
  return false;
}

/** The stores' parent directory: --dir (which must be empty or absent) or a new temporary one. */
function prepareDir(dir: string | undefined): { base: string; temporary: boolean } {
  if (dir === undefined) return { base: mkdtempSync(join(tmpdir(), 'birch-bench-')), temporary: true };
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) {
    throw new BenchUsageError(`--dir ${dir} is not empty; give an empty or new directory (the bench leaves its stores there)`);
  }
  return { base: dir, temporary: false };
}

/** A problem with what the user asked for, reported as a usage error. */
export class BenchUsageError extends Error {}

function withoutInternal(cfg: BenchConfig): Omit<BenchConfig, 'dirChecked'> {
  const { dirChecked: _, ...rest } = cfg;
  return rest;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
