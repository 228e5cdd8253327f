/**
 * The final table (stdout) of a run. --json prints the BenchReport itself.
 */
import { fmtInt } from './progress.js';
import type { BenchReport, WorkloadResult } from './run.js';
import { WORKLOADS } from './workloads/index.js';

export function formatReport(r: BenchReport): string {
  const c = r.config;
  const engines = c.engines.filter((e) => r.results.some((x) => x.engine === e));
  const workloads = WORKLOADS.map((w) => w.name).filter((w) => r.results.some((x) => x.workload === w));
  const find = (engine: string, workload: string): WorkloadResult | undefined =>
    r.results.find((x) => x.engine === engine && x.workload === workload);
  const lines: string[] = [];

  const store = c.workloads.some((w) => w !== 'tokyo')
    ? `${fmtInt(c.pairs)} pairs of 40-byte keys and values`
    : `tokyo, ${fmtInt(c.tokyoPairs)} pairs`;
  lines.push(
    `birch bench: ${store}, ${fmtInt(c.inFlight)} requests in flight, ` +
      `median of ${c.windows} windows of ${fmtSeconds(c.windowSeconds)} after ${fmtSeconds(c.warmupSeconds)} of warm-up`,
  );
  lines.push(
    c.sync
      ? 'durable: every write was fsynced before it was acknowledged'
      : 'DATA-LOSS MODE (--no-sync): writes were NOT fsynced; these are not durable figures',
  );
  const m = r.machine;
  lines.push(`${m.cpuModel}, ${m.cpus} CPUs, ${fmtBytes(m.memoryBytes)} RAM, node ${m.node} ${m.platform}-${m.arch}`);
  const settings = [
    c.blockSize !== undefined ? `block size ${c.blockSize}` : undefined,
    c.cacheSize !== undefined ? `cache ${fmtBytes(c.cacheSize)}` : undefined,
  ].filter((s) => s !== undefined);
  if (settings.length > 0) lines.push(settings.join(', '));
  lines.push('');

  if (engines.length > 0) {
    const peers = engines.includes('birch') ? engines.filter((e) => e !== 'birch') : [];
    const head = ['workload', 'unit', ...engines, ...peers.map((p) => `birch/${p}`)];
    const rows: string[][] = [];
    for (const w of workloads) {
      const first = engines.map((e) => find(e, w)).find((x) => x !== undefined);
      const seconds = first?.figure === 'seconds';
      const row = [w, seconds ? 'seconds' : (first?.unit ?? '')];
      for (const e of engines) {
        const x = find(e, w);
        row.push(x === undefined ? '-' : seconds ? fmtTokyo(x, c.tokyoPairs) : fmtInt(x.rate));
      }
      const b = find('birch', w);
      for (const p of peers) {
        const x = find(p, w);
        // Throughput ratios throughout (for tokyo: the peer's seconds over birch's).
        row.push(b === undefined || x === undefined ? '-' : `${(headline(b) / headline(x)).toFixed(2)}x`);
      }
      rows.push(row);
    }
    lines.push(...table(head, rows));
    lines.push('');

    const diskHead = ['on disk after', ...engines];
    const diskRows: string[][] = workloads.map((w) => [
      w,
      ...engines.map((e) => {
        const x = find(e, w);
        return x === undefined ? '-' : fmtBytes(x.bytesOnDisk);
      }),
    ]);
    diskRows.push([
      'peak RSS',
      ...engines.map((e) => fmtBytes(Math.max(0, ...r.results.filter((x) => x.engine === e).map((x) => x.peakRss)))),
    ]);
    lines.push(...table(diskHead, diskRows));
    lines.push('');

    const fmtMs = (ms: number): string => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
    const loopHead = ['loop delay (ms)', ...engines.map((e) => `${e} p50/p99/max`)];
    const loopRows: string[][] = workloads.map((w) => [
      w,
      ...engines.map((e) => {
        const x = find(e, w);
        return x?.loopDelay === undefined ? '-' : `${fmtMs(x.loopDelay.p50)} / ${fmtMs(x.loopDelay.p99)} / ${fmtMs(x.loopDelay.max)}`;
      }),
    ]);
    lines.push(...table(loopHead, loopRows));
    lines.push('');
    const tok = r.results.find((x) => x.workload === 'tokyo');
    if (tok !== undefined) lines.push(`tokyo wrote ${fmtInt(c.tokyoPairs)} pairs into a new store.`);
    for (const x of r.results.filter((y) => y.workload === 'tokyo' && y.ops < c.tokyoPairs)) {
      lines.push(`${x.engine}'s tokyo stopped after ${x.seconds.toFixed(0)} s at ${fmtInt(x.ops)} pairs: ~ marks seconds projected from that rate.`);
    }
    if (peers.length > 0) lines.push('birch/peer: throughput ratio, above 1 means birch is faster.');
    lines.push(
      'Rates are the median of the measurement windows; bulk-insert and tokyo measure the windows of one load. ' +
        'Peak RSS is the whole process (bench data included), sampled during each workload. ' +
        'Loop delay is how late the event loop ran a 1 ms timer during each workload (monitorEventLoopDelay).',
    );
    const lastBirch = [...r.results].reverse().find((x) => x.engine === 'birch' && x.details !== undefined && x.workload !== 'tokyo');
    const d = lastBirch?.details;
    if (d !== undefined) {
      lines.push(
        `birch after ${lastBirch?.workload}: ${fmtInt(d.keys ?? 0)} keys, height ${d.height}, ${fmtInt(d.pagesLive ?? 0)} pages live of ` +
          `${fmtInt(d.pagesOnDisk ?? 0)} on disk, cache hit rate ${((d.cacheHitRate ?? 0) * 100).toFixed(1)}%, ` +
          `${(d.averageBatch ?? 0).toFixed(0)} requests per commit.`,
      );
    }
  } else {
    lines.push('No results.');
  }
  for (const s of r.skipped) lines.push(`skipped: ${s.reason}`);
  for (const e of r.errors) lines.push(`ERROR ${e.engine} ${e.workload}: ${e.message}`);
  lines.push(`Total ${r.totalSeconds.toFixed(1)} s, peak RSS ${fmtBytes(r.peakRss)}.`);
  return lines.join('\n') + '\n';
}

/** A figure in seconds, projected to `total` operations (marked ~) when the run stopped short. */
export function fmtTokyo(x: WorkloadResult, total: number): string {
  if (x.ops >= total) return x.seconds.toFixed(2);
  return `~${((total * x.seconds) / x.ops).toFixed(x.ops > 0 ? 2 : 0)}`;
}

/** The throughput a ratio compares (for a figure in seconds: pairs per second). */
export function headline(x: WorkloadResult): number {
  return x.figure === 'seconds' ? x.ops / x.seconds : x.rate;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i < 2 && head[0] === 'workload' ? cell.padEnd(widths[i]!) : i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function fmtSeconds(s: number): string {
  return s >= 1 ? `${+s.toFixed(2)} s` : `${Math.round(s * 1000)} ms`;
}
