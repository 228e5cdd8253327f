/**
 * `birch bench [workloads...]`: kivaloo's benchmark workloads against birch
 * and against LMDB and LevelDB (those of them installed, or those --engine
 * names) through the same driver.
 * src/bin/birch.ts hands this subcommand its arguments (see there).
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { chartSvg } from './chart.js';
import { TOKYO_PAIRS } from './data.js';
import { EngineMissing, type EngineModule } from './engines/engine.js';
import { ENGINE_NAMES, loadEngine, type EngineName } from './engines/index.js';
import type { ErrStream } from './progress.js';
import { formatReport } from './report.js';
import { BenchUsageError, runBench, type BenchConfig } from './run.js';
import { WORKLOADS } from './workloads/index.js';

/** Pairs in the main store when workloads are named. */
export const DEFAULT_PAIRS = 2 ** 20;
/** Pairs in the main store of the default run (no workloads named). */
export const QUICK_PAIRS = 2 ** 18;
export const DEFAULT_SECONDS = 8;
export const DEFAULT_WINDOWS = 5;
export const DEFAULT_IN_FLIGHT = 4096;

export interface CliIO {
  out: { write(s: string): unknown };
  err: ErrStream;
  /** Tests substitute engines here. */
  engineModules?: Partial<Record<string, EngineModule>>;
}

interface BenchOptions {
  pairs?: number;
  seconds: number;
  windows: number;
  inFlight: number;
  blockSize?: number;
  cache?: number;
  sync: boolean;
  dir?: string;
  json?: boolean;
  chart?: string;
  /** Unset: birch and every peer that can be imported. */
  engine?: EngineName[];
  seed: number;
}

export function register(program: Command, io: Partial<CliIO> = {}): Command {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const names = WORKLOADS.map((w) => w.name);
  const cmd = program
    .command('bench')
    .description(
      "run kivaloo's benchmark workloads (all of them on a 2^18-pair store if none are named) and print a table",
    )
    .argument('[workloads...]', `any of: ${names.join(', ')}`)
    .option('--pairs <n>', `pairs in the store (default ${DEFAULT_PAIRS}, or ${QUICK_PAIRS} when no workload is named; tokyo writes ${TOKYO_PAIRS}, or this many if fewer)`, positiveInt)
    .option('--seconds <s>', 'measured seconds per timed workload, split into windows', positiveNumber, DEFAULT_SECONDS)
    .option('--windows <n>', 'measurement windows per workload; the figure is their median', positiveInt, DEFAULT_WINDOWS)
    .option('--in-flight <n>', 'requests kept outstanding', positiveInt, DEFAULT_IN_FLIGHT)
    .option('--block-size <bytes>', "birch's block size for the new stores, 2048 to 65536", blockSize)
    .option('--cache <bytes>', "birch's node cache and LevelDB's block cache (suffixes k, m, g: binary units)", byteSize)
    .option('--no-sync', 'DATA-LOSS MODE: skip fsync (results are labelled as such)')
    .option('--dir <path>', 'put the stores here and keep them (must be empty or new); default: a temporary directory, removed afterwards')
    .option('--json', 'print only the JSON report on stdout')
    .option('--chart <file>', "also write the comparison as an SVG bar chart: each engine's figure over the best engine's, per workload")
    .addOption(
      new Option(
        '--engine <list>',
        `comma-separated engines to compare: ${ENGINE_NAMES.join(', ')} (default: birch and every peer that is installed)`,
      ).argParser(engineList),
    )
    .option('--seed <n>', 'seed for the random key choices', nonNegativeInt, 1)
    .addHelpText(
      'after',
      '\nWorkloads:\n' + WORKLOADS.map((w) => `  ${w.name.padEnd(14)} ${w.summary}`).join('\n') + '\n',
    )
    .action(async (workloads: string[], opts: BenchOptions, command: Command) => {
      const unknown = workloads.filter((w) => !names.includes(w));
      if (unknown.length > 0) {
        command.error(`error: unknown workload ${unknown.map((u) => `'${u}'`).join(', ')} (expected any of: ${names.join(', ')})`);
      }
      // Check --chart's directory now rather than after minutes of running.
      const chart = opts.chart !== undefined ? resolve(opts.chart) : undefined;
      if (chart !== undefined && !isDirectory(dirname(chart))) {
        command.error(`error: --chart ${opts.chart}: the directory ${dirname(chart)} does not exist`);
      }
      // A peer asked for by name must be there: say so now, not after the
      // other engines have run. By default birch runs beside every peer
      // that is installed (as in a clone), and a note names the others.
      const requested = opts.engine !== undefined ? [...new Set(opts.engine)] : [...ENGINE_NAMES];
      const missing = await missingPeers(requested, io.engineModules);
      if (opts.engine !== undefined && missing.length > 0) command.error(missing.map((m) => `error: ${m.message}`).join('\n'));
      const engines = requested.filter((e) => !missing.some((m) => m.engine === e));
      if (missing.length > 0) {
        err.write(
          `birch bench: not comparing with ${missing.map((m) => m.engine).join(' or ')}: not installed ` +
            `(npm install ${missing.map((m) => m.pkg).join(' ')} to add; --engine birch runs birch alone)\n`,
        );
      }
      const quick = workloads.length === 0;
      const pairs = opts.pairs ?? (quick ? QUICK_PAIRS : DEFAULT_PAIRS);
      const cfg: BenchConfig = {
        workloads: quick ? names : [...new Set(workloads)],
        engines,
        pairs,
        tokyoPairs: Math.min(opts.pairs ?? TOKYO_PAIRS, TOKYO_PAIRS),
        seconds: opts.seconds,
        windows: opts.windows,
        inFlight: opts.inFlight,
        sync: opts.sync,
        seed: opts.seed,
        ...(opts.blockSize !== undefined ? { blockSize: opts.blockSize } : {}),
        ...(opts.cache !== undefined ? { cacheSize: opts.cache } : {}),
        ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
      };
      let report;
      try {
        report = await runBench(cfg, { err, ...(io.engineModules !== undefined ? { engineModules: io.engineModules } : {}) });
      } catch (e) {
        if (e instanceof BenchUsageError) command.error(`error: ${e.message}`);
        throw e;
      }
      out.write(opts.json === true ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
      if (chart !== undefined && report.results.length > 0) {
        try {
          writeFileSync(chart, chartSvg(report));
        } catch (e) {
          command.error(`error: --chart ${opts.chart}: ${e instanceof Error ? e.message : String(e)}`);
        }
        err.write(`birch bench: wrote the chart to ${opts.chart}\n`);
      }
      if (report.errors.length > 0) {
        command.error(`error: ${report.errors.length} workload(s) failed: ${report.errors.map((e) => `${e.engine} ${e.workload}`).join(', ')}`);
      }
      if (report.results.length === 0) command.error('error: no engine produced results');
    });
  return cmd;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The peers among `engines` whose package cannot be imported here. */
async function missingPeers(engines: EngineName[], modules: CliIO['engineModules']): Promise<EngineMissing[]> {
  const missing: EngineMissing[] = [];
  for (const name of engines) {
    let mod: EngineModule;
    try {
      mod = modules?.[name] ?? (await loadEngine(name));
    } catch {
      continue; // runBench reports an engine that does not load
    }
    try {
      await mod.probe?.();
    } catch (err) {
      if (err instanceof EngineMissing) missing.push(err);
    }
  }
  return missing;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a non-negative integer.');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

function blockSize(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || n < 2048 || n > 65536) throw new InvalidArgumentError('must be an integer from 2048 to 65536.');
  return n;
}

function byteSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(v);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(m?.[2] ?? '').toLowerCase()];
  const n = m !== null && scale !== undefined ? Math.floor(Number(m[1]) * scale) : NaN;
  if (!(n >= 1)) throw new InvalidArgumentError('must be a positive number of bytes, e.g. 67108864 or 64m.');
  return n;
}

function engineList(v: string): EngineName[] {
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = list.filter((s) => !(ENGINE_NAMES as readonly string[]).includes(s));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown engine ${bad.map((b) => `'${b}'`).join(', ')} (expected a comma-separated list of: ${ENGINE_NAMES.join(', ')}).`);
  if (list.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of: ${ENGINE_NAMES.join(', ')}.`);
  return list as EngineName[];
}
