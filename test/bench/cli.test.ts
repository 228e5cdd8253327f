/**
 * The `bench` subcommand as a user types it: option checks, --json, --dir.
 * Parsed in-process with commander's exitOverride, output captured.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { open } from 'birchdb';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../../bench/cli.js';
import { Dataset } from '../../bench/data.js';
import { EngineMissing, type EngineModule } from '../../bench/engines/engine.js';
import type { BenchReport } from '../../bench/run.js';
import { memoryEngine } from './memory-engine.js';

interface Outcome {
  code: number;
  out: string;
  err: string;
}

async function bench(...args: string[]): Promise<Outcome> {
  return benchWith({}, ...args);
}

/** `birch bench <args>` with engines substituted. */
async function benchWith(engineModules: Partial<Record<string, EngineModule>>, ...args: string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  const program = new Command().name('birch').exitOverride();
  program.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  register(program, { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) }, engineModules });
  try {
    await program.parseAsync(['bench', ...args], { from: 'user' });
    return { code: 0, out, err };
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode, out, err };
    throw e;
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'birch-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('birch bench: bad options exit non-zero with a clear message', () => {
  const cases: [string[], RegExp][] = [
    [['--pairs', '-5'], /option '--pairs <n>' argument '-5' is invalid\. must be a positive integer/],
    [['--pairs', '0'], /--pairs.*must be a positive integer/],
    [['--pairs', '1.5'], /--pairs.*must be a positive integer/],
    [['--seconds', '0'], /--seconds.*must be a positive number/],
    [['--seconds', 'abc'], /--seconds.*must be a positive number/],
    [['--windows', '-1'], /--windows.*must be a positive integer/],
    [['--in-flight', '0'], /--in-flight.*must be a positive integer/],
    [['--block-size', '100'], /--block-size.*from 2048 to 65536/],
    [['--cache', 'lots'], /--cache.*positive number of bytes/],
    [['--engine', 'birch,rocks'], /unknown engine 'rocks'.*birch, lmdb, level/],
    [['--engine', ''], /--engine.*comma-separated list/],
    [['random-read', 'random-write'], /unknown workload 'random-write' \(expected any of: bulk-insert, /],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ];
  for (const [args, message] of cases) {
    it(`rejects ${args.join(' ') || '(empty)'}`, async () => {
      const r = await bench(...args);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });
  }

  it('refuses a --dir that is not empty', async () => {
    const dir = join(scratch, 'full');
    mkdirSync(dir);
    writeFileSync(join(dir, 'precious'), 'x');
    const r = await bench('tokyo', '--pairs', '10', '--dir', dir);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--dir .* is not empty/);
    expect(readdirSync(dir)).toEqual(['precious']);
  });

  it('lists the workloads in --help', async () => {
    const r = await bench('--help');
    expect(r.code).toBe(0);
    for (const w of ['bulk-insert', 'bulk-update', 'bulk-extract', 'random-read', 'random-mixed', 'hotspot-read', 'tokyo']) {
      expect(r.out).toContain(w);
    }
  });
});

/** A peer whose package is not installed, as in an application that installed birchdb. */
function absent(name: string, pkg: string): EngineModule {
  const missing = (): Promise<never> => Promise.reject(new EngineMissing(name, pkg, new Error(`Cannot find package '${pkg}'`)));
  return { name, probe: missing, open: missing };
}

describe('birch bench: peers that are not installed', () => {
  it('refuses an --engine list naming one, before running anything, and says how to add it', async () => {
    const mem = memoryEngine();
    const r = await benchWith({ birch: mem, lmdb: absent('lmdb', 'lmdb') }, 'tokyo', '--pairs', '100', '--engine', 'birch,lmdb');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('lmdb is not installed');
    expect(r.err).toContain('npm install lmdb');
    expect(r.out).toBe('');
    expect(mem.stats.puts).toBe(0);
  });

  it('names every missing one', async () => {
    const r = await benchWith({ lmdb: absent('lmdb', 'lmdb'), level: absent('level', 'classic-level') }, 'tokyo', '--engine', 'lmdb,level');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('npm install lmdb');
    expect(r.err).toContain('npm install classic-level');
  });
});

describe('birch bench: the default engines', () => {
  const quick = ['bulk-insert', 'tokyo', '--pairs', '500', '--seconds', '0.2', '--windows', '2', '--json'];

  it('are birch and every peer that is installed, with a note naming the others', async () => {
    const r = await benchWith({ birch: memoryEngine(), lmdb: memoryEngine(), level: absent('level', 'classic-level') }, ...quick);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as BenchReport;
    expect(report.config.engines).toEqual(['birch', 'lmdb']);
    expect([...new Set(report.results.map((x) => x.engine))]).toEqual(['birch', 'lmdb']);
    expect(report.skipped).toEqual([]);
    const notes = r.err.split('\n').filter((l) => l !== '');
    expect(notes).toEqual(['birch bench: not comparing with level: not installed (npm install classic-level to add; --engine birch runs birch alone)']);
  });

  it('are birch alone, without a word of error, when no peer is installed', async () => {
    const r = await benchWith({ birch: memoryEngine(), lmdb: absent('lmdb', 'lmdb'), level: absent('level', 'classic-level') }, ...quick);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as BenchReport).config.engines).toEqual(['birch']);
    expect(r.err).toContain('not comparing with lmdb or level: not installed (npm install lmdb classic-level to add;');
    expect(r.err).not.toMatch(/error/i);
  });

  it('are all three when both peers are installed, with no note', async () => {
    const r = await benchWith({ birch: memoryEngine(), lmdb: memoryEngine(), level: memoryEngine() }, ...quick);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as BenchReport).config.engines).toEqual(['birch', 'lmdb', 'level']);
    expect(r.err).toBe('');
  });

  it('give way to --engine birch, which runs birch alone with no note', async () => {
    const r = await benchWith({ birch: memoryEngine(), lmdb: absent('lmdb', 'lmdb'), level: memoryEngine() }, ...quick, '--engine', 'birch');
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as BenchReport).config.engines).toEqual(['birch']);
    expect(r.err).toBe('');
  });
});

describe('birch bench: output', () => {
  it('prints only JSON with --json', async () => {
    const r = await bench('random-read', 'tokyo', '--pairs', '2000', '--seconds', '0.2', '--windows', '2', '--json', '--engine', 'birch');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as BenchReport;
    expect(report.results.map((x) => x.workload)).toEqual(['random-read', 'tokyo']);
    expect(report.config.pairs).toBe(2000);
    expect(report.config.tokyoPairs).toBe(2000);
    expect(report.config.dataLossMode).toBe(false);
    expect(report.results[0]!.windowRates).toHaveLength(2);
  });

  it('labels data-loss mode in the table', async () => {
    const r = await bench('tokyo', '--pairs', '1000', '--seconds', '0.2', '--no-sync', '--engine', 'birch');
    expect(r.code).toBe(0);
    expect(r.out).toContain('DATA-LOSS MODE (--no-sync)');
    expect(r.out).toMatch(/tokyo\s+seconds\s+\d+\.\d\d/);
  });

  it('keeps the stores in --dir, loaded exactly with the benchmark data', async () => {
    const dir = join(scratch, 'kept');
    const r = await bench('bulk-insert', '--pairs', '3000', '--seconds', '0.2', '--dir', dir, '--block-size', '2048', '--engine', 'birch');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/bulk-insert\s+pairs\/s\s+[\d,]+/);
    expect(r.out).toContain('block size 2048');
    const db = open(join(dir, 'birch'));
    try {
      expect(db.stats().keys).toBe(3000);
      expect(db.stats().blockSize).toBe(2048);
      const data = new Dataset(3000);
      let i = 0;
      for (const [k, v] of db.range()) {
        expect(k).toEqual(data.key(i));
        expect(v).toEqual(data.value(i));
        i++;
      }
      expect(i).toBe(3000);
    } finally {
      await db.close();
    }
  });
});
