/**
 * A TTL-heavy workload: how fast expired keys are purged, and how disk use
 * falls afterwards.
 *
 *   node dist/bench/ttl-heavy.js <store dir> [--pairs N] [--min-ttl MS] [--max-ttl MS] [--in-flight K] [--seconds S]
 *
 * Puts N pairs (default 2^20) of kivaloo's 40-byte keys and values into an
 * empty store, each with a lifetime drawn uniformly from [min-ttl, max-ttl]
 * (default 1 to 10 s), K in flight (default 4096), fsynced as always. Then,
 * with nothing else running, it samples the store every 500 ms for S
 * seconds (default 30): keys still counted by stats(), keys whose deadline
 * has passed but that stats() still counts (the purge's lag), live pages
 * and bytes on disk. Finally reclaim() and the disk use after it, and
 * check().
 */
import * as fs from 'node:fs';
import { open } from 'birchdb';
import { Dataset, randomInts } from './data.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined || dir.startsWith('--')) throw new Error('usage: ttl-heavy.js <store dir> [--pairs N] [--min-ttl MS] [--max-ttl MS] [--in-flight K] [--seconds S]');
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`${dir} must be empty or missing`);
  const n = arg('--pairs', 1 << 20);
  const minTtl = arg('--min-ttl', 1000);
  const maxTtl = arg('--max-ttl', 10_000);
  const k = arg('--in-flight', 4096);
  const seconds = arg('--seconds', 30);
  const data = new Dataset(n);
  const random = randomInts(7);
  const db = open(dir);
  const deadlines = new Float64Array(n);
  const t0 = performance.now();
  let inflight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const ttl = minTtl + random(maxTtl - minTtl + 1);
    deadlines[i] = Date.now() + ttl;
    inflight.push(db.put(data.key(i), data.value(i), { ttl }));
    if (inflight.length >= k) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  const loadSeconds = (performance.now() - t0) / 1000;
  const afterLoad = db.stats();
  console.log(`loaded ${n} pairs with TTLs of ${minTtl}-${maxTtl} ms in ${loadSeconds.toFixed(2)} s (${Math.round(n / loadSeconds).toLocaleString('en-US')} puts/s); ${afterLoad.pagesLive} live pages, ${(afterLoad.bytesOnDisk / MiB).toFixed(1)} MiB on disk`);
  console.log('| s after load | keys counted | of them expired (lag) | live pages | MiB on disk | keys purged |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  const sorted = Float64Array.from(deadlines).sort();
  const expiredBy = (t: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const start = performance.now();
  let maxLag = 0;
  let allGoneAt: number | undefined;
  while ((performance.now() - start) / 1000 < seconds) {
    await new Promise((r) => setTimeout(r, 500));
    const s = db.stats() as ReturnType<typeof db.stats> & { keysPurged?: number };
    const live = n - expiredBy(Date.now());
    const lag = s.keys - live;
    if (lag > maxLag) maxLag = lag;
    const t = (performance.now() - start) / 1000;
    console.log(`| ${t.toFixed(1)} | ${s.keys} | ${lag} | ${s.pagesLive} | ${(s.bytesOnDisk / MiB).toFixed(1)} | ${s.keysPurged ?? '-'} |`);
    if (s.keys === 0 && allGoneAt === undefined) {
      allGoneAt = t;
      break;
    }
  }
  const lastDeadline = sorted[sorted.length - 1]!;
  console.log(`last deadline ${((lastDeadline - Date.now()) / 1000).toFixed(1)} s from now; every key purged ${allGoneAt === undefined ? 'not within the sampling time' : `${allGoneAt.toFixed(1)} s after the load`}; largest lag sampled: ${maxLag} keys`);
  const before = db.stats();
  await db.reclaim();
  const after = db.stats();
  console.log(`reclaim(): ${(before.bytesOnDisk / MiB).toFixed(1)} MiB -> ${(after.bytesOnDisk / MiB).toFixed(1)} MiB on disk, ${after.pagesLive} live pages; check ok: ${db.check().ok}`);
  await db.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
