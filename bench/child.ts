/**
 * The process one engine's part of a multi-engine run executes in (see
 * runBench): it receives a BenchConfig naming one engine over IPC, runs it,
 * and sends the report back.
 */
import { runBench, type BenchConfig, type BenchReport } from './run.js';

process.once('message', (cfg: BenchConfig) => {
  const reply = (m: { report?: BenchReport; error?: string }): void => {
    process.send?.(m, () => process.exit(0));
  };
  runBench(cfg, { err: process.stderr }).then(
    (report) => reply({ report }),
    (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
  );
});
