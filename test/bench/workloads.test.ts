/**
 * Every workload end to end on a tiny store, through the same runner the CLI
 * uses, for each engine: birch (imported as 'birchdb' by bench/engines/birch.ts),
 * the two peers, and the in-memory test engine.
 */
import { describe, expect, it } from 'vitest';
import { EngineMissing, type Engine, type EngineModule, type Pair } from '../../bench/engines/engine.js';
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

/** The peers' packages (devDependencies), looked up when the tests are
 * collected, so that a missing one shows as a skipped test, with the reason
 * in its name, rather than as a pass. */
const PEER_PACKAGE = { lmdb: 'lmdb', level: 'classic-level' } as const;
const absent = {
  birch: false,
  lmdb: !(await hasPackage(PEER_PACKAGE.lmdb)),
  level: !(await hasPackage(PEER_PACKAGE.level)),
};

/** The in-memory engine with its reads or range reads tampered with. */
function tampered(change: { get?: (v: Buffer) => Buffer; range?: (pairs: Pair[]) => Pair[] }): EngineModule {
  const mem = memoryEngine();
  return {
    name: 'tampered',
    async open(dir, opts): Promise<Engine> {
      const e = await mem.open(dir, opts);
      return {
        ...e,
        get: (key) => {
          const v = e.get(key) as Buffer | undefined;
          return v === undefined || change.get === undefined ? v : change.get(Buffer.from(v));
        },
        range: (gte) => {
          const pairs = [...(e.range(gte) as Iterable<Pair>)];
          return change.range === undefined ? pairs : change.range(pairs);
        },
      };
    },
  };
}

/** The value with its last byte changed. */
function flipped(v: Buffer): Buffer {
  const c = Buffer.from(v);
  c[c.length - 1]! ^= 1;
  return c;
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
    const reason = engine !== 'birch' && absent[engine] ? ` (skipped: the ${PEER_PACKAGE[engine]} package is not installed)` : '';
    it.skipIf(absent[engine])(`run on ${engine}${reason}`, async () => {
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

  for (const w of ['random-read', 'hotspot-read', 'random-mixed']) {
    it(`fails ${w} when a read returns a value other than the one written`, async () => {
      const report = await runBench(config(['tampered'], { workloads: [w] }), {
        err: quiet,
        engineModules: { tampered: tampered({ get: flipped }) },
      });
      expect(report.errors.map((e) => e.workload)).toEqual([w]);
      expect(report.errors[0]!.message).toMatch(/^get\([0-9a-f]{80}\) returned [0-9a-f]{80}, expected [0-9a-f]{80}/);
      if (w === 'random-mixed') expect(report.errors[0]!.message).toMatch(/ or [0-9a-f]{80}$/);
    });
  }

  it('accepts in random-mixed either value a key can hold after bulk-update', async () => {
    // bulk-update leaves keys holding their loaded value or its complement;
    // random-mixed writes the complement.
    const report = await runBench(config(['memory'], { workloads: ['bulk-update', 'random-mixed'] }), {
      err: quiet,
      engineModules: { memory: memoryEngine() },
    });
    expect(report.errors).toEqual([]);
    expect(report.results.map((r) => r.workload)).toEqual(['bulk-update', 'random-mixed']);
  });

  it('fails bulk-extract when a range read returns a wrong value, or too few pairs', async () => {
    const bad = tampered({ range: (pairs) => pairs.map(([k, v], i): Pair => [k, i === 1234 ? flipped(v) : v]) });
    let report = await runBench(config(['tampered'], { workloads: ['bulk-extract'] }), { err: quiet, engineModules: { tampered: bad } });
    expect(report.errors.map((e) => e.workload)).toEqual(['bulk-extract']);
    expect(report.errors[0]!.message).toMatch(/^range: pair 1234 \(key [0-9a-f]{80}\) has value [0-9a-f]{80}, expected [0-9a-f]{80}$/);

    const short = tampered({ range: (pairs) => pairs.slice(0, -1) });
    report = await runBench(config(['tampered'], { workloads: ['bulk-extract'] }), { err: quiet, engineModules: { tampered: short } });
    expect(report.errors.map((e) => e.message)).toEqual(['range returned 2999 pairs, but 3000 were loaded']);
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
