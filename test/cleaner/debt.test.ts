import { describe, expect, it } from 'vitest';
import { CleaningDebt } from '../../src/cleaner/index.js';

describe('cleaning debt arithmetic', () => {
  it('grows by rate x seconds x garbage pages, starting at the first tick', () => {
    const d = new CleaningDebt(0.5);
    d.tick(10_000, 1000, 900); // first reading: no time has passed yet
    expect(d.debt).toBe(0);
    d.tick(12_000, 1000, 900); // 2 s x 0.5/s x 100 pages
    expect(d.debt).toBeCloseTo(100, 9);
    d.tick(12_500, 1000, 900); // 0.5 s more: +25
    expect(d.debt).toBeCloseTo(125, 9);
  });

  it('adds nothing without garbage, or with the clock standing still or going back', () => {
    const d = new CleaningDebt(1);
    d.tick(0, 500, 500);
    d.tick(5000, 500, 500);
    expect(d.debt).toBe(0);
    d.tick(5000, 600, 500);
    expect(d.debt).toBe(0);
    d.tick(4000, 600, 500);
    expect(d.debt).toBe(0);
    d.tick(5000, 600, 500);
    expect(d.debt).toBeCloseTo(100, 9);
  });

  it('is clamped to plus and minus the live pages', () => {
    const d = new CleaningDebt(10);
    d.tick(0, 10_000, 100);
    d.tick(60_000, 10_000, 100);
    expect(d.debt).toBe(100);
    // 1000 pages of relative age 1 rewritten: at most -100.
    d.credit(new Array(1000).fill(0), 1000, 1000, 100);
    expect(d.debt).toBe(-100);
  });

  it('pays by relative age: (next - block) / pages on disk', () => {
    const d = new CleaningDebt(1);
    d.tick(0, 2000, 1000);
    d.tick(1000, 2000, 1000); // +1000
    expect(d.debt).toBeCloseTo(1000, 9);
    // Log holds 2000 pages ending before block 3000: block 1000 is the oldest
    // (age 1), block 2000 half way (0.5), block 2999 nearly new (0.0005).
    const paid = d.credit([1000, 2000, 2999], 2000, 3000, 1000);
    expect(paid).toBeCloseTo(1 + 0.5 + 0.0005, 9);
    expect(d.debt).toBeCloseTo(1000 - paid, 9);
  });

  it('a rate of zero never builds debt', () => {
    const d = new CleaningDebt(0);
    d.tick(0, 1e6, 1);
    d.tick(1e9, 1e6, 1);
    expect(d.debt).toBe(0);
  });
});
