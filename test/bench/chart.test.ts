/**
 * `--chart`: the SVG bar chart, from a fixed report (the figures of the
 * README's table), and through the CLI.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { chartRows, chartSvg, fmtRatio } from '../../bench/chart.js';
import { register } from '../../bench/cli.js';
import type { BenchReport, WorkloadResult } from '../../bench/run.js';
import { memoryEngine } from './memory-engine.js';

const FIGURES: [string, string, number, number, number][] = [
  // workload, unit, birch, lmdb, level (tokyo: seconds)
  ['bulk-insert', 'pairs/s', 486874, 922436, 11737],
  ['bulk-extract', 'pairs/s', 3168536, 2541309, 219049],
  ['random-read', 'reads/s', 263883, 502459, 293400],
  ['hotspot-read', 'reads/s', 501017, 757402, 406666],
  ['bulk-update', 'pairs/s', 684939, 903916, 9630],
  ['random-mixed', 'ops/s', 52455, 114361, 19133],
  ['tokyo', 'pairs/s', 1.07, 0.87, 81.58],
];
const ENGINES = ['birch', 'lmdb', 'level'];

function report(engines = ENGINES, over: Partial<BenchReport['config']> = {}): BenchReport {
  const results: WorkloadResult[] = [];
  for (const [workload, unit, ...figures] of FIGURES) {
    engines.forEach((engine, i) => {
      const f = figures[i]!;
      const tokyo = workload === 'tokyo';
      results.push({
        engine,
        workload,
        unit,
        figure: tokyo ? 'seconds' : 'rate',
        rate: tokyo ? 1e6 / f : f,
        overallRate: tokyo ? 1e6 / f : f,
        windowRates: [],
        ops: tokyo ? 1e6 : f * 8,
        seconds: tokyo ? f : 8,
        bytesOnDisk: 1 << 20,
        peakRss: 1 << 28,
      });
    });
  }
  return {
    tool: 'birch bench',
    date: '2026-01-02T03:04:05.000Z',
    config: {
      workloads: FIGURES.map((f) => f[0]),
      engines: engines as BenchReport['config']['engines'],
      pairs: 1048576,
      tokyoPairs: 1000000,
      seconds: 8,
      windows: 5,
      inFlight: 4096,
      sync: true,
      seed: 1,
      dir: '(temporary, removed)',
      dataLossMode: false,
      warmupSeconds: 1.6,
      windowSeconds: 1.6,
      ...over,
    },
    machine: { node: 'v20.20.2', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'AMD EPYC', memoryBytes: 24 * 2 ** 30 },
    results,
    skipped: [],
    errors: [],
    peakRss: 1 << 29,
    totalSeconds: 300,
  };
}

/**
 * Checks that `svg` is well-formed XML as far as an SVG file needs: one root
 * element, every tag closed in order, quoted attributes, no stray `<` or `&`.
 * Returns the text content.
 */
function wellFormed(svg: string): string {
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const texts: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const m of body.matchAll(tag)) {
    const [, close, name, , selfClose, textNode, stray] = m;
    if (stray !== undefined) throw new Error(`stray '<' at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (textNode !== undefined) {
      if (stack.length === 0 && textNode.trim() !== '') throw new Error(`text outside the root: ${textNode}`);
      const bad = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.exec(textNode);
      if (bad !== null) throw new Error(`unescaped '&' in ${textNode}`);
      texts.push(textNode);
      continue;
    }
    if (close === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (stack.length === 0 && ++roots > 1) throw new Error('more than one root element');
      if (selfClose !== '/') stack.push(name!);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error('no root element');
  return texts.join(' ');
}

describe('the bench chart', () => {
  it('is a well-formed, self-contained SVG naming every workload and engine', () => {
    const svg = chartSvg(report());
    expect(svg).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
    const text = wellFormed(svg);
    for (const [w] of FIGURES) expect(text).toContain(w);
    for (const e of ENGINES) expect(text).toContain(e);
    expect(svg).not.toMatch(/href|<script|<image|@import|url\(/);
    expect(text).toContain('durable');
  });

  it('draws each engine as a ratio to the best on each workload; for tokyo, lower seconds is better', () => {
    const { engines, rows } = chartRows(report());
    expect(engines).toEqual(ENGINES);
    expect(rows.map((r) => r.workload)).toEqual(FIGURES.map((f) => f[0]));
    const ratios = (w: string): number[] => rows.find((r) => r.workload === w)!.bars.map((b) => b.ratio!);
    const insert = ratios('bulk-insert');
    expect(insert[0]).toBeCloseTo(486874 / 922436, 6);
    expect(insert[1]).toBe(1);
    expect(insert[2]).toBeCloseTo(11737 / 922436, 6);
    expect(ratios('bulk-extract')[0]).toBe(1);
    const tokyo = ratios('tokyo');
    expect(tokyo[1]).toBe(1); // lmdb's 0.87 s is the best
    expect(tokyo[0]).toBeCloseTo(0.87 / 1.07, 6);
    expect(tokyo[2]).toBeCloseTo(0.87 / 81.58, 6);
    expect(rows.find((r) => r.workload === 'tokyo')!.lowerIsBetter).toBe(true);

    // The labels on the bars carry the same ratios and the figures.
    const svg = chartSvg(report());
    expect(svg).toContain('<tspan font-weight="bold">0.53</tspan><tspan dx="6" fill="#666">birch, 486,874 pairs/s</tspan>');
    expect(svg).toContain('<tspan font-weight="bold">0.81</tspan><tspan dx="6" fill="#666">birch, 1.07 s</tspan>');
    expect(svg).toContain('<tspan font-weight="bold">1.00</tspan><tspan dx="6" fill="#666">lmdb, 0.87 s</tspan>');
    expect(svg).toContain('seconds, lower is better');
    expect(svg).toContain('<tspan font-weight="bold">0.011</tspan><tspan dx="6" fill="#666">level, 81.58 s</tspan>');
    expect([1, 0.5, 0.1, 0.0951, 0.09, 0.0107, 0.00285].map(fmtRatio)).toEqual(['1.00', '0.50', '0.10', '0.10', '0.090', '0.011', '0.0029']);
    // Bar lengths: 1.00 is 480 px.
    expect(svg).toMatch(/<rect x="200" y="\d+" width="480\.0" height="18" fill="#1f5fa8"><title>lmdb bulk-insert: /);
    expect(svg).toMatch(/<rect x="200" y="\d+" width="253\.4" height="18" fill="#2e7d32"><title>birch bulk-insert: 486,874 pairs\/s, 0\.53 of the best/);
  });

  it('escapes names, marks missing results, and labels data-loss mode', () => {
    const r = report(['birch', 'lmdb'], { sync: false, dataLossMode: true });
    r.config.engines = ['birch', 'lmdb', 'a<b&"c"' as 'birch'];
    r.results.push({ ...r.results[0]!, engine: 'a<b&"c"' });
    r.results = r.results.filter((x) => !(x.engine === 'lmdb' && x.workload === 'random-read'));
    const svg = chartSvg(r);
    const text = wellFormed(svg);
    expect(svg).toContain('a&lt;b&amp;&quot;c&quot;');
    expect(text).toContain('lmdb: no result');
    expect(text).toContain('DATA-LOSS MODE');
  });

  it('is written by birch bench --chart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'birch-chart-test-'));
    try {
      let out = '';
      let err = '';
      const program = new Command().name('birch').exitOverride();
      program.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
      register(program, {
        out: { write: (s: string) => (out += s) },
        err: { write: (s: string) => (err += s) },
        engineModules: { birch: memoryEngine(), lmdb: memoryEngine(), level: memoryEngine() },
      });
      const file = join(dir, 'bench.svg');
      await program.parseAsync(['bench', 'bulk-insert', 'random-read', 'tokyo', '--pairs', '500', '--seconds', '0.2', '--windows', '2', '--chart', file], {
        from: 'user',
      });
      expect(err).toContain(`wrote the chart to ${file}`);
      expect(out).toMatch(/random-read\s+reads\/s/);
      const text = wellFormed(readFileSync(file, 'utf8'));
      for (const s of ['bulk-insert', 'random-read', 'tokyo', 'birch', 'lmdb', 'level']) expect(text).toContain(s);

      // A directory that does not exist is refused before anything runs.
      let code = 0;
      try {
        await program.parseAsync(['bench', 'tokyo', '--chart', join(dir, 'no/such/dir/x.svg')], { from: 'user' });
      } catch (e) {
        if (!(e instanceof CommanderError)) throw e;
        code = e.exitCode;
      }
      expect(code).not.toBe(0);
      expect(err).toMatch(/--chart .*no\/such\/dir\/x\.svg: the directory .* does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
