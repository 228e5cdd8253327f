/**
 * A tiny seeded PRNG (mulberry32) for tests: every random choice a test makes
 * comes from one of these, so a failure can print its seed and be replayed.
 */
import { Prng } from '../../src/cli/prng.js';

export class Rng extends Prng {
  readonly seed: number;

  /** Seeds are scrambled first (mulberry32's first outputs for small
   * consecutive seeds are alike); see Prng in src/cli/model.ts. */
  constructor(seed: number) {
    super(seed);
    this.seed = seed >>> 0;
  }

  /** An integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick of an empty list');
    return items[this.int(items.length)]!;
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}
