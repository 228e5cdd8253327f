/**
 * The child side of `birch torture` (torture.ts is the parent): a hidden
 * command that opens the store, says "ready", then keeps many requests in
 * flight from the seeded request stream (workload.ts), writing "a <n>" to
 * its stdout the moment request n is acknowledged, with a reclaim() now and
 * then, until the parent kills it (or, with --requests, until that many are
 * acknowledged).
 *
 * @internal
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { open } from '../api/store.js';
import { BirchError } from '../errors.js';
import { int, num } from './args.js';
import type { TortureOptions } from './torture.js';
import { RequestStream, issue, type WorkloadShape } from './workload.js';

/** The child: open, report ready, write until killed (or until --requests are acknowledged). */
export async function tortureChild(
  dir: string,
  o: { seed: number; inFlight: number; shape: WorkloadShape; blockSize: number; segmentSize: number; cleaning: number; reclaimEvery: number; requests: number },
): Promise<void> {
  // Synchronous, so that a line is out before the next instruction runs (a
  // SIGKILL can come at any moment). If stdout was made non-blocking and the
  // pipe is full, wait for the parent to read.
  const say = (s: string): void => {
    const b = Buffer.from(s, 'latin1');
    for (let off = 0; off < b.length; ) {
      try {
        off += fs.writeSync(1, b, off, b.length - off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  };
  const db = open(dir, { blockSize: o.blockSize, segmentSize: o.segmentSize, cleaning: o.cleaning });
  say('ready\n');
  const stream = new RequestStream(o.seed, o.shape);
  let inflight = 0;
  let acked = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const fail = (what: string, err: unknown): void => {
    say(`error ${what}: ${err instanceof BirchError ? `${err.code} ${err.message}` : String(err)}\n`);
    process.exit(3);
  };
  // Every `reclaimEvery` acknowledgements the child stops issuing and runs
  // reclaim() (which waits for the store to go idle, then rewrites every old
  // leaf and deletes the old segments), so that kills land in cleaning too.
  let reclaiming = false;
  const pump = (): void => {
    while (!reclaiming && inflight < o.inFlight && stream.issued < o.requests) {
      const i = stream.issued;
      const req = stream.next();
      inflight++;
      issue(db, req).then(
        () => {
          say(`a ${i}\n`);
          inflight--;
          acked++;
          if (o.reclaimEvery > 0 && acked % o.reclaimEvery === 0) {
            reclaiming = true;
            db.reclaim().then(
              () => {
                reclaiming = false;
                pump();
              },
              (e: unknown) => fail('reclaim', e),
            );
          }
          pump();
          if (inflight === 0 && !reclaiming && stream.issued >= o.requests) finish();
        },
        (e: unknown) => fail(`request ${i}`, e),
      );
    }
    if (inflight === 0 && !reclaiming && stream.issued >= o.requests) finish();
  };
  pump();
  await done;
  await db.close();
  say('done\n');
}

/** Add the hidden `torture-child` command, with the parent's defaults `d`. */
export function registerChild(program: Command, d: Omit<TortureOptions, 'dir'>): void {
  program
    .command('torture-child', { hidden: true })
    .argument('<dir>')
    .requiredOption('--seed <n>', '', int(0))
    .option('--in-flight <n>', '', int(1), 64)
    .option('--keys <n>', '', int(1), d.shape.keys)
    .option('--batch-share <x>', '', num(0, 1), d.shape.batchShare)
    .option('--delete-share <x>', '', num(0, 1), d.shape.deleteShare)
    .option('--max-batch <n>', '', int(1), d.shape.maxBatch)
    .option('--block-size <n>', '', int(2048), d.blockSize)
    .option('--segment-size <n>', '', int(1), d.segmentSize)
    .option('--cleaning <x>', '', num(0), d.cleaning)
    .option('--reclaim-every <n>', '', int(0), d.reclaimEvery)
    .option('--requests <n>', 'stop after this many requests (default: run until killed)', int(0))
    .action(
      async (
        dir: string,
        opts: {
          seed: number;
          inFlight: number;
          keys: number;
          batchShare: number;
          deleteShare: number;
          maxBatch: number;
          blockSize: number;
          segmentSize: number;
          cleaning: number;
          reclaimEvery: number;
          requests?: number;
        },
      ) => {
        await tortureChild(dir, {
          seed: opts.seed,
          inFlight: opts.inFlight,
          shape: { keys: opts.keys, batchShare: opts.batchShare, deleteShare: opts.deleteShare, maxBatch: opts.maxBatch },
          blockSize: opts.blockSize,
          segmentSize: opts.segmentSize,
          cleaning: opts.cleaning,
          reclaimEvery: opts.reclaimEvery,
          requests: opts.requests ?? Infinity,
        });
      },
    );
}
