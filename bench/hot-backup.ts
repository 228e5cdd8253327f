/**
 * Hot backup under load: how long db.backup() takes on a store of N pairs of
 * the bench data, how large the backup is against the live data, and what
 * it does to writers running at the same time.
 *
 *   node dist/bench/hot-backup.js <store dir> <backup dir> [--pairs N] [--in-flight K] [--seconds S]
 *
 * With an empty <store dir> it first bulk-loads N pairs (default 2^20) of
 * kivaloo's 40-byte keys and values, then overwrites every value once (so
 * the store carries garbage, as a store in use does). Then random puts of
 * those keys run with K in flight (default 256) for S seconds (default 5)
 * without a backup, then again while db.backup(<backup dir>) runs; the
 * report compares put throughput, put latency and the longest gap between
 * two turns of the event loop in the two phases, and opens and checks the
 * backup.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { open, type Store } from 'birchdb';
import { Dataset } from './data.js';

interface Phase {
  puts: number;
  seconds: number;
  latencies: number[];
  maxLoopMs: number;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

async function loadStore(db: Store, data: Dataset): Promise<void> {
  for (const round of [0, 1]) {
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < data.n; i++) {
      inflight.push(db.put(data.key(i), round === 0 ? data.value(i) : data.updateValue(i, 1)));
      if (inflight.length >= 4096) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
  }
}

/** Random puts with `k` in flight until `until` resolves (or `seconds` pass). */
async function writers(db: Store, data: Dataset, k: number, until: Promise<unknown>): Promise<Phase> {
  let stop = false;
  void until.then(() => (stop = true));
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const latencies: number[] = [];
  let puts = 0;
  let seed = 12345;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (!stop) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const i = seed % data.n;
        const t = performance.now();
        await db.put(data.key(i), data.updateValue(i, 2 + (puts & 1)));
        latencies.push(performance.now() - t);
        puts++;
      }
    }),
  );
  lag.disable();
  return { puts, seconds: (performance.now() - t0) / 1000, latencies, maxLoopMs: lag.max / 1e6 };
}

function describe(name: string, p: Phase): string {
  const l = p.latencies.sort((a, b) => a - b);
  const q = (f: number): string => (l[Math.min(l.length - 1, Math.floor(f * l.length))] ?? 0).toFixed(1);
  return (
    `${name}: ${p.puts} puts in ${p.seconds.toFixed(1)} s = ${Math.round(p.puts / p.seconds)} puts/s; ` +
    `put latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; longest event-loop stall ${p.maxLoopMs.toFixed(1)} ms`
  );
}

const [dir, dest] = process.argv.slice(2);
if (dir === undefined || dest === undefined) {
  console.error('usage: node dist/bench/hot-backup.js <store dir> <backup dir> [--pairs N] [--in-flight K] [--seconds S]');
  process.exit(2);
}
const n = arg('--pairs', 1 << 20);
const k = arg('--in-flight', 256);
const seconds = arg('--seconds', 5);
const data = new Dataset(n);
const fresh = !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
const db = open(dir);
if (fresh) {
  const t = performance.now();
  await loadStore(db, data);
  console.log(`loaded ${n} pairs and overwrote each once in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
const s = db.stats();
const live = s.keys * 80;
console.log(`store: ${s.keys} keys (${(live / 2 ** 20).toFixed(1)} MiB of keys and values), ${s.pagesLive} live pages, ${s.pagesOnDisk} pages on disk (${(s.bytesOnDisk / 2 ** 20).toFixed(1)} MiB)`);

const base = await writers(db, data, k, new Promise((r) => setTimeout(r, seconds * 1000)));
console.log(describe('without a backup', base));

let result: Awaited<ReturnType<Store['backup']>> | undefined;
const backup = db.backup(dest).then((r) => (result = r));
const during = await writers(db, data, k, backup);
console.log(describe('during the backup', during));
const r = result!;
const apparent = fs.readdirSync(dest).reduce((a, f) => a + fs.statSync(path.join(dest, f)).size, 0);
console.log(
  `backup: ${r.keys} keys, ${r.pages} pages = ${(r.bytes / 2 ** 20).toFixed(1)} MiB of blocks ` +
    `(${(r.bytes / live).toFixed(2)}x the ${(live / 2 ** 20).toFixed(1)} MiB of keys and values; ` +
    `the store had ${(s.bytesOnDisk / 2 ** 20).toFixed(1)} MiB on disk), in ${r.seconds.toFixed(2)} s; ` +
    `files ${(apparent / 2 ** 20).toFixed(1)} MiB apparent (the last segment file is sparse)`,
);
await db.close();
const b = open(dest, { cleaning: 0 });
const c = b.check();
console.log(`backup check: ${c.ok ? 'ok' : 'FAILED'}, ${c.keys} keys, ${c.pages} pages, height ${c.height}`);
await b.close();
