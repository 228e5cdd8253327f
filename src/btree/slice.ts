/**
 * Cutting a batch's work into slices of the event loop. A commit of thousands
 * of random writes applies, rebalances and serializes thousands of pages;
 * done in one go, that holds the event loop for tens of milliseconds, and an
 * application that embeds the store (a web server) stalls every request for
 * that long. So the steps of a batch check a Slicer as they go and, once a
 * slice is used up, yield (setImmediate): timers, I/O callbacks, reads and
 * new requests run, then the batch goes on. Nothing else touches the
 * working tree meanwhile: new requests queue for the next batch, readers
 * read the committed root, and the cleaner waits for the tree to be idle.
 *
 * @internal
 */

/** How long one slice may hold the event loop, in milliseconds. */
export const SLICE_MS = 2;

export class Slicer {
  private start = performance.now();

  constructor(private readonly ms = SLICE_MS) {}

  /** Whether this slice is used up. Reads the clock: call it every few dozen microseconds of work, not per key. */
  due(): boolean {
    return performance.now() - this.start >= this.ms;
  }

  /** Let the event loop run, then start a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }

  /** Yield if this slice is used up. */
  async maybeYield(): Promise<void> {
    if (this.due()) await this.yield();
  }
}
