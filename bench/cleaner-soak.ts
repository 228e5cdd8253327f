/**
 * The cleaner's long test (issue: bounded disk use with no compaction step),
 * kept out of the default suite because it runs for minutes:
 *
 *   node dist/bench/cleaner-soak.js mixed|update|delete [--pairs N] [--seconds S] [--cleaning R]
 *       [--space-target T] [--segment-size B] [--every S] [--no-sync]
 *
 * mixed:  load N pairs in key order, then random-mixed (alternate GET and SET
 *         of uniformly random keys, 4096 SETs in flight) for S seconds.
 * update: load N pairs, then SET every key again in key order, pass after
 *         pass (bulk update), 4096 in flight, for S seconds.
 * delete: load N pairs, delete 90% of them (4096 in flight), then leave the
 *         store idle for S seconds.
 * Every 5 s (--every) it prints a row: seconds, ops/s over the row, pages on disk,
 * live pages, their ratio, the cleaning debt, pages cleaned, segments freed,
 * and the longest the event loop was held over the row (ms).
 * Data are kivaloo's 40-byte pairs (bench/data.ts). fsync stays on unless
 * --no-sync is given.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { open } from 'birchdb';
import { Dataset, randomInts } from './data.js';

interface Args {
  mode: 'mixed' | 'update' | 'delete';
  pairs: number;
  seconds: number;
  cleaning: number | undefined;
  segmentSize: number | undefined;
  spaceTarget: number | undefined;
  every: number;
  sync: boolean;
}

function parse(argv: string[]): Args {
  const mode = argv[0];
  if (mode !== 'mixed' && mode !== 'update' && mode !== 'delete') {
    throw new Error('usage: cleaner-soak.js mixed|update|delete [--pairs N] [--seconds S] [--cleaning R] [--space-target T] [--segment-size B] [--every S] [--no-sync]');
  }
  const args: Args = { mode, pairs: 1 << 20, seconds: 60, cleaning: undefined, segmentSize: undefined, spaceTarget: undefined, every: 5, sync: true };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a non-negative number`);
      return v;
    };
    if (a === '--pairs') args.pairs = num();
    else if (a === '--seconds') args.seconds = num();
    else if (a === '--cleaning') args.cleaning = num();
    else if (a === '--segment-size') args.segmentSize = num();
    else if (a === '--space-target') args.spaceTarget = num();
    else if (a === '--every') args.every = num();
    else if (a === '--no-sync') args.sync = false;
    else throw new Error(`unknown option ${a}`);
  }
  return args;
}

/** Keep `inflight` promises from `issue(i)` outstanding until `stop()` or n issued. */
async function drive(n: number, inflight: number, issue: (i: number) => Promise<unknown>, stop: () => boolean): Promise<number> {
  let i = 0;
  let active = 0;
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      while (active < inflight && i < n && !stop()) {
        active++;
        issue(i++).then(() => {
          active--;
          if (active === 0 && (i >= n || stop())) resolve();
          else next();
        }, reject);
      }
      if (active === 0) resolve();
    };
    next();
  });
  return i;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-soak-'));
  const data = new Dataset(args.pairs);
  const db = open(dir, {
    sync: args.sync,
    ...(args.cleaning !== undefined ? { cleaning: args.cleaning } : {}),
    ...(args.segmentSize !== undefined ? { segmentSize: args.segmentSize } : {}),
    ...(args.spaceTarget !== undefined ? { spaceTarget: args.spaceTarget } : {}),
  });
  const label =
    `${args.mode}, ${args.pairs} pairs, cleaning ${args.cleaning ?? 'default'}, space target ${args.spaceTarget ?? 'default'}, ` +
    `segments of ${args.segmentSize ?? 'default size'}${args.sync ? '' : ', NO SYNC'}`;
  console.log(`# cleaner soak: ${label}`);
  let t = performance.now();
  await drive(args.pairs, 4096, (i) => db.put(data.key(i), data.value(i)), () => false);
  const s0 = db.stats();
  console.log(
    `# loaded in ${((performance.now() - t) / 1000).toFixed(1)} s: live ${s0.pagesLive} pages, on disk ${s0.pagesOnDisk}, cleaned ${s0.pagesCleaned}`,
  );
  if (args.mode === 'delete') {
    t = performance.now();
    const doomed = Math.ceil(args.pairs * 0.9);
    // Delete 9 of every 10 keys, spread over the whole key space.
    await drive(doomed, 4096, (j) => db.delete(data.key(Math.floor(j / 9) * 10 + 1 + (j % 9))), () => false);
    const s = db.stats();
    console.log(`# deleted 90% in ${((performance.now() - t) / 1000).toFixed(1)} s: ${s.keys} keys left`);
  }
  console.log('seconds\tops/s\tpagesOnDisk\tpagesLive\tratio\tdebt\tcleaned\tsegmentsFreed\tloopMaxMs');
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const start = performance.now();
  let ops = 0;
  let lastOps = 0;
  let last = start;
  const rows: number[] = [];
  const row = (): void => {
    const now = performance.now();
    const s = db.stats();
    const rate = (ops - lastOps) / ((now - last) / 1000);
    rows.push(rate);
    console.log(
      [((now - start) / 1000).toFixed(0), Math.round(rate), s.pagesOnDisk, s.pagesLive, (s.pagesOnDisk / s.pagesLive).toFixed(2), Math.round(s.cleaningDebt), s.pagesCleaned, s.segmentsFreed, (loop.max / 1e6).toFixed(1)].join('\t'),
    );
    last = now;
    lastOps = ops;
    loop.reset();
  };
  row();
  const timer = setInterval(row, args.every * 1000);
  const done = (): boolean => performance.now() - start >= args.seconds * 1000;
  if (args.mode === 'mixed') {
    const rand = randomInts(42);
    await drive(
      Infinity,
      4096,
      (i) => {
        ops += 2;
        db.get(data.key(rand(args.pairs)));
        const k = rand(args.pairs);
        return db.put(data.key(k), data.updateValue(k, 1 + (i % 2)));
      },
      done,
    );
  } else if (args.mode === 'update') {
    // SET every key again in key order, pass after pass (kivaloo's bulk update).
    await drive(
      Infinity,
      4096,
      (i) => {
        ops += 1;
        const k = i % args.pairs;
        return db.put(data.key(k), data.updateValue(k, 1 + Math.floor(i / args.pairs)));
      },
      done,
    );
  } else {
    while (!done()) await new Promise((r) => setTimeout(r, 250));
  }
  clearInterval(timer);
  row();
  const sorted = rows.slice(1).sort((a, b) => a - b);
  if (args.mode !== 'delete' && sorted.length > 0) {
    console.log(`# median ops/s over ${args.every}-second rows: ${Math.round(sorted[Math.floor(sorted.length / 2)]!)}`);
  }
  console.log(`# check: ${db.check().ok ? 'ok' : 'PROBLEMS'}`);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
