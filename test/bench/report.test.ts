/**
 * The report's figures: a tokyo run that stopped at its time limit is
 * projected from the pairs it wrote, and says so.
 */
import { describe, expect, it } from 'vitest';
import { fmtTokyo } from '../../bench/report.js';
import type { WorkloadResult } from '../../bench/run.js';

const result = (ops: number, seconds: number): WorkloadResult => ({
  engine: 'level',
  workload: 'tokyo',
  unit: 'pairs/s',
  figure: 'seconds',
  rate: ops / seconds,
  overallRate: ops / seconds,
  windowRates: [],
  ops,
  seconds,
  bytesOnDisk: 0,
  peakRss: 0,
  loopDelay: { p50: 0, p99: 0, max: 0 },
});

describe('tokyo figures', () => {
  it('a finished run shows its seconds; one stopped short is projected to the whole count, marked ~', () => {
    expect(fmtTokyo(result(1_000_000, 1.234), 1_000_000)).toBe('1.23');
    expect(fmtTokyo(result(100_000, 30), 1_000_000)).toBe('~300.00');
  });
});
