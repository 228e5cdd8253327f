/**
 * `birch bench --chart FILE.svg`: the comparison as a horizontal bar chart,
 * written by hand as one self-contained SVG file (no fonts, scripts or
 * images from elsewhere). For each workload each engine's bar is its figure
 * over the best engine's on that workload, so the best bar is 1.00 long;
 * for tokyo, whose figure is seconds, lower is better and the ratio is the
 * best time over the engine's. Each bar is labelled with the ratio and the
 * figure itself.
 */
import { fmtInt } from './progress.js';
import { fmtBytes, fmtTokyo, headline } from './report.js';
import type { BenchReport, WorkloadResult } from './run.js';
import { WORKLOADS } from './workloads/index.js';

/** One workload's bars. */
export interface ChartRow {
  workload: string;
  /** What the figures count, e.g. 'pairs/s', or 'seconds'. */
  unit: string;
  lowerIsBetter: boolean;
  /** One per engine of the run; no ratio where the engine has no result. */
  bars: ChartBar[];
}

export interface ChartBar {
  engine: string;
  /** The engine's throughput over the best engine's, in (0, 1]. */
  ratio?: number;
  /** The figure as the table prints it, e.g. '486,874 pairs/s' or '1.07 s'. */
  figure?: string;
}

/** Engine colours: the three known engines, then a fallback palette. */
const COLOURS: Record<string, string> = { birch: '#2e7d32', lmdb: '#1f5fa8', level: '#d9822b' };
const PALETTE = ['#7b3fa0', '#8c564b', '#c2185b', '#5f6b73', '#00838f'];
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** The engines and workloads the report has results for, and each bar's ratio. */
export function chartRows(r: BenchReport): { engines: string[]; rows: ChartRow[] } {
  const engines = r.config.engines.filter((e) => r.results.some((x) => x.engine === e));
  const rows: ChartRow[] = [];
  for (const w of WORKLOADS.map((x) => x.name)) {
    const results = engines.map((e) => r.results.find((x) => x.engine === e && x.workload === w));
    const present = results.filter((x): x is WorkloadResult => x !== undefined);
    if (present.length === 0) continue;
    const best = Math.max(...present.map(headline));
    const seconds = present[0]!.figure === 'seconds';
    rows.push({
      workload: w,
      unit: seconds ? 'seconds' : present[0]!.unit,
      lowerIsBetter: seconds,
      bars: engines.map((engine, i) => {
        const x = results[i];
        if (x === undefined) return { engine };
        return {
          engine,
          ratio: headline(x) / best,
          figure: seconds ? `${fmtTokyo(x, r.config.tokyoPairs)} s` : `${fmtInt(x.rate)} ${x.unit}`,
        };
      }),
    });
  }
  return { engines, rows };
}

/** A ratio with two decimals, or two significant digits when that would show 0.00 or 0.01. */
export function fmtRatio(r: number): string {
  return r >= 0.095 ? r.toFixed(2) : r.toPrecision(2);
}

/** Text and attribute values, escaped for XML. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function chartSvg(r: BenchReport): string {
  const { engines, rows } = chartRows(r);
  const colour = new Map(engines.map((e, i) => [e, COLOURS[e] ?? PALETTE[i % PALETTE.length]!]));
  const c = r.config;

  // Geometry (px).
  const width = 980;
  const left = 200; // workload labels end here; bars start here
  const plot = 480; // a ratio of 1.00
  const barH = 18;
  const barGap = 4;
  const groupGap = 18;
  const top = 122; // first group
  const groupH = (n: number): number => n * barH + (n - 1) * barGap;

  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = ''): void => {
    out.push(`<text x="${x}" y="${y}"${attrs === '' ? '' : ' ' + attrs}>${esc(s)}</text>`);
  };

  // Title, what was measured, legend.
  text(20, 30, 'birch bench: each engine against the best on each workload', 'font-size="18" font-weight="bold"');
  const store = c.workloads.some((w) => w !== 'tokyo') ? `${fmtInt(c.pairs)} pairs of 40-byte keys and values` : `${fmtInt(c.tokyoPairs)} pairs`;
  text(
    20,
    52,
    `${store}, ${fmtInt(c.inFlight)} requests in flight, median of ${c.windows} windows; ` +
      `${r.machine.cpuModel}, ${r.machine.cpus} CPUs, ${fmtBytes(r.machine.memoryBytes)} RAM, node ${r.machine.node}; ${r.date.slice(0, 10)}`,
    'font-size="12" fill="#555"',
  );
  if (c.sync) text(20, 70, 'durable: every write was fsynced before it was acknowledged', 'font-size="12" fill="#555"');
  else text(20, 70, 'DATA-LOSS MODE (--no-sync): writes were NOT fsynced; these are not durable figures', 'font-size="12" font-weight="bold" fill="#b00020"');
  let lx = 20;
  for (const e of engines) {
    out.push(`<rect x="${lx}" y="82" width="14" height="14" fill="${colour.get(e)}"/>`);
    text(lx + 20, 94, e, 'font-size="13"');
    lx += 20 + Math.max(40, e.length * 8) + 24;
  }

  // The axis: ratios 0 to 1 along the top, with grid lines through the plot.
  const bottom = top + rows.reduce((h, row) => h + groupH(row.bars.length) + groupGap, 0) - groupGap;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const x = left + t * plot;
    out.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${bottom + 4}" stroke="${t === 1 ? '#999' : '#ddd'}" stroke-width="1"${t === 0 || t === 1 ? '' : ' stroke-dasharray="3,3"'}/>`);
    text(x, top - 10, t.toFixed(2), 'font-size="11" fill="#777" text-anchor="middle"');
  }

  // One group of bars per workload.
  let y = top;
  for (const row of rows) {
    const h = groupH(row.bars.length);
    const mid = y + h / 2;
    text(left - 12, mid - 2, row.workload === 'tokyo' ? `tokyo (${fmtInt(c.tokyoPairs)} pairs)` : row.workload, 'font-size="14" text-anchor="end"');
    text(left - 12, mid + 13, row.lowerIsBetter ? 'seconds, lower is better' : row.unit, 'font-size="11" fill="#777" text-anchor="end"');
    row.bars.forEach((bar, i) => {
      const by = y + i * (barH + barGap);
      if (bar.ratio === undefined || bar.figure === undefined) {
        text(left + 6, by + barH - 5, `${bar.engine}: no result`, 'font-size="12" fill="#999" font-style="italic"');
        return;
      }
      const w = Math.max(1, bar.ratio * plot);
      out.push(
        `<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${colour.get(bar.engine)}">` +
          `<title>${esc(`${bar.engine} ${row.workload}: ${bar.figure}, ${fmtRatio(bar.ratio)} of the best`)}</title></rect>`,
      );
      // The label, on a white ground (its width estimated from its length)
      // so that a grid line does not run through it.
      const label = `${bar.engine}, ${bar.figure}`;
      out.push(`<rect x="${(left + w + 3).toFixed(1)}" y="${by + 1}" width="${(40 + label.length * 6.6).toFixed(0)}" height="${barH - 2}" fill="#fff"/>`);
      out.push(
        `<text x="${(left + w + 6).toFixed(1)}" y="${by + barH - 5}" font-size="12">` +
          `<tspan font-weight="bold">${fmtRatio(bar.ratio)}</tspan><tspan dx="6" fill="#666">${esc(label)}</tspan></text>`,
      );
    });
    y += h + groupGap;
  }

  // How to read it.
  const note = bottom + 30;
  text(
    20,
    note,
    "Bar length: the engine's figure over the best engine's on that workload (1.00 = the best). For tokyo, the best time over the engine's.",
    'font-size="11" fill="#555"',
  );
  text(20, note + 16, 'Throughput is the median measurement window; bulk-insert and tokyo measure the windows of one load.', 'font-size="11" fill="#555"');
  const height = note + 30;

  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${esc(FONT)}">\n` +
    `<title>${esc(`birch bench: ${engines.join(', ')} on ${rows.map((row) => row.workload).join(', ')}`)}</title>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n` +
    out.join('\n') +
    '\n</svg>\n'
  );
}
