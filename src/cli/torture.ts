/**
 * `birch torture`: kill a writing process with SIGKILL at random moments,
 * over and over, and verify the store after every kill.
 *
 * Each cycle spawns a child (`birch torture-child`, a hidden command, in
 * torture-child.ts) that
 * opens the store and keeps many requests in flight: puts, deletes and
 * batches from a seeded request stream (model.ts), with a reclaim() now and
 * then so that the cleaner rewrites leaves and old segments are deleted. The
 * child writes "a <n>" to its stdout (a pipe, written synchronously) the
 * moment request n is acknowledged. The parent kills it at a random moment
 * (sometimes before it even finished opening the store), then opens the
 * store itself and requires that
 *   - it opens and check() finds nothing wrong;
 *   - it holds exactly the state after some prefix of the child's requests
 *     that includes every acknowledged one (a batch whole or not at all);
 *   - get() agrees with the range read, and a second open shows the same.
 * The verified state is the start of the next cycle.
 *
 * src/bin/birch.ts adds both commands by calling register().
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { open } from '../api/store.js';
import { BirchError } from '../errors.js';
import { formatProblem } from './check.js';
import { int, num } from './args.js';
import { cliIO, type CliIO } from './io.js';
import { analyzeLosses } from './losses.js';
import { findPrefix, readState, statesEqual, type State } from './model.js';
import { Prng } from './prng.js';
import { registerChild } from './torture-child.js';
import { DEFAULT_SHAPE, RequestStream, type WorkloadShape } from './workload.js';

export interface TortureOptions {
  /** Store directory (made if missing). */
  dir: string;
  /** Stop after this many cycles (Infinity: no limit). */
  cycles: number;
  /** Stop once this many seconds have passed (Infinity: no limit). */
  seconds: number;
  seed: number;
  shape: WorkloadShape;
  /** Most requests a child keeps in flight (each cycle picks a window up to it). */
  inFlight: number;
  blockSize: number;
  segmentSize: number;
  /** The child's cleaning option. */
  cleaning: number;
  /** The child calls reclaim() after every this many acknowledgements (0: never). */
  reclaimEvery: number;
  /** The kill comes this many ms after the child reported ready (uniform in [min, max]). */
  killMs: [number, number];
  /** Share of cycles killed at a random moment from spawn on (often during open). */
  earlyShare: number;
  /** The built dist/bin/birch.js the child runs. */
  birchJs: string;
  /** Progress lines (one per cycle); optional. */
  log?: (line: string) => void;
}

export interface TortureResult {
  cycles: number;
  /** Acknowledged requests (puts, deletes, batches) verified present. */
  ackedRequests: number;
  /** Writes (puts and deletes, batch members one by one) of those requests. */
  ackedWrites: number;
  ackedBatches: number;
  /** Requests issued but not acknowledged before the kill that had committed anyway. */
  unackedCommitted: number;
  /** Cycles killed before the child reported ready. */
  killedBeforeReady: number;
  /** Keys whose acknowledged write was missing (must be 0). */
  losses: number;
  /** Keys holding a value never written (must be 0). */
  phantoms: number;
  failures: string[];
  keysAtEnd: number;
  seconds: number;
}

export const DEFAULT_BIRCH_JS = fileURLToPath(new URL('../bin/birch.js', import.meta.url));

export function defaultTortureOptions(): Omit<TortureOptions, 'dir'> {
  return {
    cycles: 100,
    seconds: Infinity,
    seed: 1,
    shape: DEFAULT_SHAPE,
    inFlight: 256,
    blockSize: 2048,
    segmentSize: 256 * 1024,
    cleaning: 4,
    reclaimEvery: 1500,
    killMs: [20, 400],
    earlyShare: 0.15,
    birchJs: DEFAULT_BIRCH_JS,
  };
}

const WINDOWS = [1, 2, 4, 16, 64, 256, 1024];

interface ChildRun {
  acked: number[];
  ready: boolean;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
  errors: string[];
}

function runChild(o: TortureOptions, seed: number, window: number, rng: Prng): Promise<ChildRun> {
  const args = [
    o.birchJs,
    'torture-child',
    o.dir,
    '--seed',
    String(seed),
    '--in-flight',
    String(window),
    '--keys',
    String(o.shape.keys),
    '--batch-share',
    String(o.shape.batchShare),
    '--delete-share',
    String(o.shape.deleteShare),
    '--max-batch',
    String(o.shape.maxBatch),
    '--block-size',
    String(o.blockSize),
    '--segment-size',
    String(o.segmentSize),
    '--cleaning',
    String(o.cleaning),
    '--reclaim-every',
    String(o.reclaimEvery),
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: ChildRun = { acked: [], ready: false, signal: null, code: null, stderr: '', errors: [] };
  let buf = '';
  let timer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  const early = rng.next() < o.earlyShare;
  if (early) timer = setTimeout(kill, rng.int(300));
  const watchdog = setTimeout(() => {
    run.errors.push('child did not report ready within 30 s');
    kill();
  }, 30_000);
  proc.stdout.setEncoding('latin1');
  proc.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('a ')) run.acked.push(Number(line.slice(2)));
      else if (line === 'ready') {
        run.ready = true;
        clearTimeout(watchdog);
        if (!early) timer = setTimeout(kill, o.killMs[0] + rng.int(o.killMs[1] - o.killMs[0] + 1));
      } else if (line.length > 0) run.errors.push(`child: ${line}`);
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s: string) => {
    if (run.stderr.length < 4000) run.stderr += s;
  });
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watchdog);
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

/** Open the store, check it, read it whole; then open it again and compare. */
async function inspect(o: TortureOptions, keys: Iterable<Buffer>): Promise<{ state: State; problems: string[] }> {
  const problems: string[] = [];
  const db = open(o.dir, { blockSize: o.blockSize, cleaning: 0 });
  let state: State;
  try {
    const r = db.check();
    if (!r.ok) problems.push(`check(): ${r.problems.slice(0, 5).map(formatProblem).join('; ')}`);
    state = readState(db);
    if (r.ok && r.keys !== state.size) problems.push(`check() counts ${r.keys} keys, range() yields ${state.size}`);
    for (const k of keys) {
      const got = db.get(k)?.toString('hex');
      if (got !== state.get(k.toString('hex'))) problems.push(`get(${k.toString('hex')}) disagrees with range()`);
    }
  } finally {
    await db.close();
  }
  const again = open(o.dir, { blockSize: o.blockSize, cleaning: 0 });
  try {
    if (!statesEqual(readState(again), state)) problems.push('a second open shows another state');
  } finally {
    await again.close();
  }
  return { state, problems };
}

export async function runTorture(o: TortureOptions): Promise<TortureResult> {
  const t0 = performance.now();
  const res: TortureResult = {
    cycles: 0,
    ackedRequests: 0,
    ackedWrites: 0,
    ackedBatches: 0,
    unackedCommitted: 0,
    killedBeforeReady: 0,
    losses: 0,
    phantoms: 0,
    failures: [],
    keysAtEnd: 0,
    seconds: 0,
  };
  if (!fs.existsSync(o.birchJs)) throw new Error(`${o.birchJs} is missing: run npm run build`);
  const rng = new Prng(o.seed ^ 0x5eed);
  let start: State = fs.existsSync(o.dir) ? (await inspect(o, [])).state : new Map();
  while (res.cycles < o.cycles && (performance.now() - t0) / 1000 < o.seconds && res.failures.length === 0) {
    const cycle = res.cycles++;
    const seed = (Math.imul(o.seed, 0x9e3779b1) + cycle) >>> 0;
    const window = Math.min(o.inFlight, WINDOWS[rng.int(WINDOWS.length)]!);
    const run = await runChild(o, seed, window, rng);
    const tag = `cycle ${cycle} (seed ${seed}, ${window} in flight)`;
    if (!run.ready) res.killedBeforeReady++;
    if (run.signal !== 'SIGKILL') {
      res.failures.push(`${tag}: child ended by itself (code ${run.code}, signal ${run.signal}): ${run.errors.join('; ')} ${run.stderr}`);
      break;
    }
    if (run.errors.length > 0) {
      res.failures.push(`${tag}: ${run.errors.join('; ')}`);
      break;
    }
    const ackedSet = new Set(run.acked);
    const mustHave = run.acked.reduce((m, i) => Math.max(m, i + 1), 0);
    // A child never has more than `window` requests unacknowledged.
    const reqs = RequestStream.take(seed, Math.max(mustHave, run.acked.length) + window, o.shape);
    const touched = new Map<string, Buffer>();
    for (const r of reqs) for (const op of r.ops) touched.set(op.key.toString('hex'), op.key);
    let view: { state: State; problems: string[] };
    try {
      view = await inspect(o, touched.values());
    } catch (err) {
      res.failures.push(`${tag}: reopening failed: ${err instanceof BirchError ? `${err.code} ${err.message}` : String(err)}`);
      break;
    }
    const p = findPrefix(start, reqs, mustHave, reqs.length, view.state);
    if (p < 0 || view.problems.length > 0) {
      const l = analyzeLosses(start, reqs, (i) => ackedSet.has(i), view.state);
      res.losses += l.losses;
      res.phantoms += l.phantoms;
      res.failures.push(
        `${tag}: ${p < 0 ? `no prefix of the ${reqs.length} requests with all ${run.acked.length} acknowledged ones gives the store's state` : 'state ok'}; ` +
          `${l.losses} lost, ${l.phantoms} phantom; ${[...view.problems, ...l.details].slice(0, 10).join('; ')}`,
      );
      break;
    }
    for (const i of ackedSet) {
      const r = reqs[i]!;
      res.ackedRequests++;
      res.ackedWrites += r.ops.length;
      if (r.kind === 'batch') res.ackedBatches++;
    }
    res.unackedCommitted += p - mustHave;
    start = view.state;
    o.log?.(
      `${tag}: ${run.ready ? '' : 'killed before ready, '}${run.acked.length} acknowledged, ` +
        `${p - mustHave} more committed, ${start.size} keys: ok`,
    );
  }
  res.keysAtEnd = start.size;
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

export function formatTorture(r: TortureResult, dir: string): string {
  const lines = [
    `birch torture: ${r.cycles} cycles in ${r.seconds.toFixed(1)} s (store ${dir})`,
    `  cycles:                           ${r.cycles} (${r.killedBeforeReady} killed before the store was open)`,
    `  acknowledged requests verified:   ${r.ackedRequests} (${r.ackedBatches} of them batches)`,
    `  acknowledged writes verified:     ${r.ackedWrites} (puts and deletes, batch members counted one by one)`,
    `  unacknowledged requests found committed: ${r.unackedCommitted}`,
    `  keys in the store at the end:     ${r.keysAtEnd}`,
    `  losses:                           ${r.losses}`,
    `  phantoms:                         ${r.phantoms}`,
    `  failures:                         ${r.failures.length}`,
  ];
  for (const f of r.failures) lines.push(`  FAILURE ${f}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command, partial: Partial<CliIO> = {}): Command {
  const io = cliIO(partial);
  const d = defaultTortureOptions();
  program
    .command('torture')
    .description('kill a writing child process with SIGKILL at random moments, cycle after cycle, and verify the store after each kill')
    .option('--cycles <n>', 'stop after this many cycles (default 100 unless --seconds is given)', int(1))
    .option('--seconds <s>', 'stop once this many seconds have passed', num(0.001))
    .option('--dir <path>', 'store directory (kept); default: a temporary one, removed unless something failed')
    .option('--seed <n>', 'seed of the workload and of the kill times', int(0), d.seed)
    .option('--in-flight <n>', 'most requests the child keeps in flight', int(1), d.inFlight)
    .option('--keys <n>', 'size of the key space', int(1), d.shape.keys)
    .option('--block-size <bytes>', 'block size of a new store', int(2048), d.blockSize)
    .option('--segment-size <bytes>', 'segment size (small: more segment files, more frees)', int(1), d.segmentSize)
    .option('--kill-ms <min,max>', 'the kill comes this many ms after the child is ready (default 20,400)', (v: string) => {
      const m = /^(\d+),(\d+)$/.exec(v);
      if (m === null || Number(m[1]) > Number(m[2])) throw new InvalidArgumentError('must be min,max in ms');
      return [Number(m[1]), Number(m[2])] as [number, number];
    })
    .option('-v, --verbose', 'print a line per cycle on stderr')
    .addHelpText(
      'after',
      '\nPrints cycles, acknowledged writes verified and losses; exits 1 on any loss or\nfailed verification (the store is then kept for inspection).\n',
    )
    .action(
      async (opts: {
        cycles?: number;
        seconds?: number;
        dir?: string;
        seed: number;
        inFlight: number;
        keys: number;
        blockSize: number;
        segmentSize: number;
        killMs?: [number, number];
        verbose?: boolean;
      }) => {
        const temp = opts.dir === undefined;
        const dir = path.resolve(opts.dir ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'birch-torture-')), 'store'));
        const o: TortureOptions = {
          ...d,
          dir,
          cycles: opts.cycles ?? (opts.seconds === undefined ? d.cycles : Infinity),
          seconds: opts.seconds ?? Infinity,
          seed: opts.seed,
          inFlight: opts.inFlight,
          shape: { ...d.shape, keys: opts.keys },
          blockSize: opts.blockSize,
          segmentSize: opts.segmentSize,
          killMs: opts.killMs ?? d.killMs,
          ...(opts.verbose === true && { log: (l: string) => void io.err.write(l + '\n') }),
        };
        let r: TortureResult;
        try {
          r = await runTorture(o);
        } catch (err) {
          io.err.write(`birch torture: ${err instanceof BirchError ? `${err.code}: ${err.message}` : String(err)}\n`);
          io.exit(2);
          return;
        }
        io.out.write(formatTorture(r, dir));
        const bad = r.failures.length > 0 || r.losses > 0 || r.phantoms > 0;
        if (temp && !bad) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
        io.exit(bad ? 1 : 0);
      },
    );

  registerChild(program, d);
  return program;
}
