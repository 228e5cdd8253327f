/**
 * Every workload end to end on a tiny store, through the same runner the CLI
 * uses, for each engine: birch (imported as 'birchdb' by bench/engines/birch.ts),
 * the two peers, and the in-memory test engine.
 */
import { describe, expect, it } from 'vitest';
import { EngineMissing, type EngineModule } from '../../bench/engines/engine.js';
import type { EngineName } from '../../bench/engines/index.js';
import { formatReport } from '../../bench/report.js';
import { runBench, type BenchConfig } from '../../bench/run.js';
import { WORKLOADS } from '../../bench/workloads/index.js';
import { memoryEngine } from './memory-engine.js';

const ALL = WORKLOADS.map((w) => w.name);

function config(engines: string[], over: Partial<BenchConfig> = {}): BenchConfig {
  return {
    workloads: ALL,
    engines: engines as EngineName[],
    pairs: 3000,
    tokyoPairs: 2000,
    seconds: 0.2,
    windows: 2,
    inFlight: 4096,
    sync: true,
    seed: 1,
    ...over,
  };
}

const quiet = { write: () => true };

async function hasPackage(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

describe('bench workloads, end to end', () => {
  it('run on the in-memory engine, keeping 4096 writes in flight', async () => {
    const mem = memoryEngine();
    const report = await runBench(config(['memory'], { pairs: 5000 }), { err: quiet, engineModules: { memory: mem } });
    expect(report.errors).toEqual([]);
    expect(report.results.map((r) => r.workload)).toEqual(ALL);
    for (const r of report.results) {
      expect(r.ops).toBeGreaterThan(0);
      expect(r.rate).toBeGreaterThan(0);
    }
    expect(report.results.find((r) => r.workload === 'bulk-insert')!.ops).toBe(5000);
    expect(report.results.find((r) => r.workload === 'tokyo')!.ops).toBe(2000);
    expect(mem.stats.maxPending).toBe(4096);
    expect(mem.stats.closed).toBe(true);
    expect(formatReport(report)).toMatch(/bulk-insert\s+pairs\/s\s+[\d,]+/);
  });

  for (const engine of ['birch', 'lmdb', 'level'] as const) {
    it(`run on ${engine}`, async () => {
      if (engine !== 'birch' && !(await hasPackage(engine === 'lmdb' ? 'lmdb' : 'classic-level'))) return;
      const report = await runBench(config([engine]), { err: quiet });
      expect(report.errors).toEqual([]);
      expect(report.skipped).toEqual([]);
      expect(report.results.map((r) => r.workload)).toEqual(ALL);
      for (const r of report.results) {
        expect(r.engine).toBe(engine);
        expect(r.ops).toBeGreaterThan(0);
        expect(r.rate).toBeGreaterThan(0);
        expect(r.bytesOnDisk).toBeGreaterThan(0);
      }
      expect(report.results.find((r) => r.workload === 'bulk-insert')!.ops).toBe(3000);
      expect(report.results.find((r) => r.workload === 'tokyo')!.ops).toBe(2000);
      if (engine === 'birch') {
        const d = report.results.find((r) => r.workload === 'random-read')!.details!;
        expect(d.keys).toBe(3000);
      }
    });
  }

  it('loads the store unmeasured when bulk-insert is not asked for', async () => {
    const report = await runBench(config(['birch'], { workloads: ['random-read', 'hotspot-read'] }), { err: quiet });
    expect(report.errors).toEqual([]);
    expect(report.results.map((r) => r.workload)).toEqual(['random-read', 'hotspot-read']);
    expect(report.results[0]!.details!.keys).toBe(3000);
  });

  it('says so and goes on when a peer is not installed', async () => {
    const missing: EngineModule = {
      name: 'lmdb',
      open: () => Promise.reject(new EngineMissing('lmdb', 'lmdb', new Error("Cannot find package 'lmdb'"))),
    };
    const lines: string[] = [];
    const report = await runBench(config(['lmdb', 'memory'], { workloads: ['bulk-insert', 'tokyo'] }), {
      err: { write: (s: string) => lines.push(s) },
      engineModules: { lmdb: missing, memory: memoryEngine() },
    });
    expect(report.errors).toEqual([]);
    expect(report.skipped).toHaveLength(1);
    expect(lines.join('')).toContain('lmdb is not installed');
    expect(lines.join('')).toContain('npm install lmdb');
    expect(report.results.map((r) => `${r.engine} ${r.workload}`)).toEqual(['memory bulk-insert', 'memory tokyo']);
    expect(formatReport(report)).toContain('skipped: lmdb is not installed');
  });

  it('reports a failing workload as an error and goes on', async () => {
    // An engine that loses every write: reads find nothing.
    const lossy: EngineModule = {
      name: 'lossy',
      open: async () => ({
        get: () => undefined,
        put: () => Promise.resolve(),
        range: () => [],
        bytesOnDisk: () => 0,
        close: () => Promise.resolve(),
      }),
    };
    const report = await runBench(config(['lossy'], { workloads: ['random-read', 'tokyo'] }), {
      err: quiet,
      engineModules: { lossy },
    });
    expect(report.errors.map((e) => e.workload)).toEqual(['random-read']);
    expect(report.errors[0]!.message).toMatch(/found nothing/);
    expect(report.results.map((r) => r.workload)).toEqual(['tokyo']);
  });
});
