import { describe, expect, it } from 'vitest';
import { drive, median } from '../../bench/driver.js';

const base = { warmupSeconds: 0.05, windowSeconds: 0.05, windows: 3 };

describe('bench driver', () => {
  it('runs exactly `count` operations and never more than inFlight at once', async () => {
    let outstanding = 0;
    let max = 0;
    const seen = new Set<number>();
    const r = await drive(
      (i) => {
        seen.add(i);
        outstanding++;
        max = Math.max(max, outstanding);
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            outstanding--;
            resolve();
          }, 1),
        );
      },
      { ...base, inFlight: 64, count: 5000 },
    );
    expect(r.ops).toBe(5000);
    expect(seen.size).toBe(5000);
    expect(max).toBe(64);
    expect(r.overallRate).toBeGreaterThan(0);
  });

  it('measures the requested windows after a warm-up in timed mode', async () => {
    let n = 0;
    const r = await drive(() => void n++, { ...base, inFlight: 4096 });
    // Three windows; a stall of a window's length on a loaded machine merges
    // two (the driver then measures the gap as one longer window).
    expect(r.windowRates.length).toBeGreaterThanOrEqual(2);
    expect(r.windowRates.length).toBeLessThanOrEqual(3);
    expect(r.rate).toBe(median(r.windowRates));
    expect(r.ops).toBe(n);
    expect(r.seconds).toBeGreaterThanOrEqual(0.19);
    expect(r.seconds).toBeLessThan(1);
    expect(r.peakRss).toBeGreaterThan(0);
    expect(r.loopDelay.p50).toBeGreaterThan(0);
    expect(r.loopDelay.max).toBeGreaterThanOrEqual(r.loopDelay.p99);
    expect(r.loopDelay.p99).toBeGreaterThanOrEqual(r.loopDelay.p50);
  });

  it('lets timers run during long runs of synchronous operations', async () => {
    let fired = 0;
    const t = setInterval(() => fired++, 5);
    await drive(() => undefined, { ...base, inFlight: 1 });
    clearInterval(t);
    // About 40 on a quiet machine; a loaded one (load 10 on 2 cores) has given 5.
    expect(fired).toBeGreaterThan(2);
  });

  it('mixes synchronous and asynchronous operations', async () => {
    const r = await drive((i) => (i % 2 === 0 ? undefined : Promise.resolve()), { ...base, inFlight: 8, count: 1001 });
    expect(r.ops).toBe(1001);
  });

  it('rethrows the first failure after draining', async () => {
    await expect(
      drive((i) => (i === 10 ? Promise.reject(new Error('boom')) : Promise.resolve()), { ...base, inFlight: 4, count: 100 }),
    ).rejects.toThrow('boom');
    await expect(
      drive((i) => {
        if (i === 3) throw new Error('sync boom');
      }, { ...base, inFlight: 4 }),
    ).rejects.toThrow('sync boom');
  });

  it('takes medians', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
